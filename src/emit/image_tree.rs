//! The image's own files (`image-tree/`, an extra tree of the image and of the base every
//! extension builds on): `/usr/lib/os-release` with the system's name, id and version in place
//! of the distribution's, so that the extensions' release files match it.

use super::{os_release, File, Refused};
use crate::model::Model;

pub(crate) const DIR: &str = "image-tree";

pub(crate) fn emit(model: &Model) -> Result<Vec<File>, Refused> {
    let path = format!("{DIR}/usr/lib/os-release");
    let contents = os_release::render(&path, &model.system.os_release())?;
    Ok(vec![File {
        path,
        contents,
        origins: model.system.at.into_iter().collect(),
    }])
}
