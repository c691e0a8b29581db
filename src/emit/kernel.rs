//! The kernel command line and the UKI profiles, in mkosi's `[UKIProfile]` format: each
//! profile's command line is the whole base command line (with the image policy and filter)
//! followed by its own options.

use super::ini::{self, Section};
use super::File;
use crate::model::Model;

pub(crate) const CMDLINE: &str = "kernel/cmdline";
pub(crate) const PROFILES_DIR: &str = "kernel/profiles";

pub(crate) fn emit(model: &Model, source: &str) -> Vec<File> {
    let origins = model.system.cmdline.at.into_iter().collect();
    let mut files = vec![File {
        path: CMDLINE.to_owned(),
        contents: format!("{}\n", model.cmdline.text()),
        origins,
    }];
    for (index, profile) in model.profiles.iter().enumerate() {
        let mut section = Section::new("UKIProfile");
        section.set_lines(
            "Profile",
            &[
                format!("ID={}", profile.name),
                format!("TITLE={}", profile.title.value),
            ],
        );
        let cmdline: Vec<String> = profile.cmdline.iter().map(|o| o.value.clone()).collect();
        section.set_lines("Cmdline", &cmdline);
        section.set("SignExpectedPcr", ini::yes_no(profile.sign_pcr.value));
        files.push(File {
            path: format!(
                "{PROFILES_DIR}/{:02}-{}.conf",
                (index + 1) * 10,
                profile.name
            ),
            contents: ini::render(source, &[section]),
            origins: profile.at.into_iter().collect(),
        });
    }
    files
}
