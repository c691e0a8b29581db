//! The kernel command line and the UKI profiles, in mkosi's `[UKIProfile]` format. mkosi (25)
//! makes each profile's command line from the base command line (`KernelCommandLine=`, with the
//! image policy and filter) followed by the profile's `Cmdline=`, so a profile lists only its
//! own options: the policy is written once.

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
        let cmdline: Vec<String> = profile.own.value.iter().map(|o| o.value.clone()).collect();
        section.set_lines("Cmdline", &cmdline);
        // Every profile is signed when the image signs its PCR policy; mkosi 25 has no per-profile
        // switch, so only the exception (an unsigned profile, for a newer mkosi) is written.
        if !profile.sign_pcr.value {
            section.set("SignExpectedPcr", ini::yes_no(false));
        }
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
