//! The progress display of long extension-tree analyses: a spinner with the bytes read on a
//! terminal (stderr), nothing when stderr is not a terminal or the output is JSON.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::Format;
use super::output::Output;
use crate::analysis::Progress;

pub(super) struct Bar(ProgressBar);

impl Bar {
    /// A bar when the user can see one.
    pub(super) fn new(output: &Output) -> Bar {
        let visible = output.format == Format::Human && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} reading extension trees: {bytes} ({bytes_per_sec})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        if visible {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Bar(bar)
    }
}

impl Progress for Bar {
    fn read(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
