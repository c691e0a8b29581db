//! The kernel command line and the UKI profiles, in mkosi's `[UKIProfile]` format. mkosi (25)
//! makes each profile's command line from the base command line (`KernelCommandLine=`, with the
//! image policy and filter) followed by the profile's `Cmdline=`, so a profile lists only its
//! own options: the policy is written once.

use super::ini::{self, Delimiter, Dialect, Section};
use super::{cmdline, File, Refused};
use crate::model::Model;

pub(crate) const CMDLINE: &str = "kernel/cmdline";
pub(crate) const PROFILES_DIR: &str = "kernel/profiles";

pub(crate) fn emit(model: &Model, source: &str) -> Result<Vec<File>, Refused> {
    let origins = model.system.cmdline.at.into_iter().collect();
    let line = cmdline::render(
        CMDLINE,
        model.cmdline.options.iter().map(|o| o.value.as_str()),
    )?;
    let mut files = vec![File {
        path: CMDLINE.to_owned(),
        contents: format!("{line}\n"),
        origins,
    }];
    for (index, profile) in model.profiles.iter().enumerate() {
        let mut section = Section::new("UKIProfile");
        // `Profile=` is a dictionary, one `KEY=VALUE` a line.
        section.set_list(
            "Profile",
            Delimiter::Line,
            [
                format!("ID={}", profile.name),
                format!("TITLE={}", profile.title.value),
            ],
        );
        let path = format!(
            "{PROFILES_DIR}/{:02}-{}.conf",
            (index + 1) * 10,
            profile.name
        );
        // The profile's options, checked as a command line before mkosi splits them on spaces.
        cmdline::render(&path, profile.own.value.iter().map(|o| o.value.as_str()))?;
        section.set_list(
            "Cmdline",
            Delimiter::Space,
            profile.own.value.iter().map(|o| o.value.as_str()),
        );
        // Every profile is signed when the image signs its PCR policy; mkosi 25 has no per-profile
        // switch, so only the exception (an unsigned profile, for a newer mkosi) is written.
        if !profile.sign_pcr.value {
            section.set("SignExpectedPcr", ini::yes_no(false));
        }
        let contents = ini::render(Dialect::MkosiProfile, &path, source, &[section])?;
        files.push(File {
            path,
            contents,
            origins: profile.at.into_iter().collect(),
        });
    }
    Ok(files)
}
