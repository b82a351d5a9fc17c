//! Views of a plan. Renderers write to any `io::Write` with [`Styles`] that are plain
//! unless colour is wanted, so tests render into a `Vec<u8>` without escape codes.

pub mod human;
pub mod json;
pub mod markdown;
pub mod mask;
pub mod summary;

use anstyle::{AnsiColor, Effects, Style};

/// The styles of every element a renderer prints.
#[derive(Clone, Copy, Debug, Default)]
pub struct Styles {
    pub create: Style,
    pub update: Style,
    pub remove: Style,
    pub bold: Style,
    pub dim: Style,
    pub warning: Style,
    pub error: Style,
}

impl Styles {
    pub fn plain() -> Self {
        Self::default()
    }

    pub fn colored() -> Self {
        Self {
            create: AnsiColor::Green.on_default(),
            update: AnsiColor::Yellow.on_default(),
            remove: AnsiColor::Red.on_default(),
            bold: Style::new().effects(Effects::BOLD),
            dim: Style::new().effects(Effects::DIMMED),
            warning: AnsiColor::Yellow.on_default().effects(Effects::BOLD),
            error: AnsiColor::Red.on_default().effects(Effects::BOLD),
        }
    }
}
