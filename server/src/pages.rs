//! The tera templates of the dashboard and the report. They live in `templates/dashboard/` and are
//! compiled in, so the binary needs no files at run time; a directory given at start-up replaces
//! them, for editing a page without rebuilding.

use std::path::Path;

use tera::Tera;

use crate::error::{Error, Result};

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// The templates, by name under `templates/`.
pub const BUILTIN: &[(&str, &str)] = builtin![
    "dashboard/style.css",
    "dashboard/base.html",
    "dashboard/_overview.html",
    "dashboard/_candidates.html",
    "dashboard/_routine.html",
    "dashboard/_privacy.html",
    "dashboard/overview.html",
    "dashboard/candidates.html",
    "dashboard/routine.html",
    "dashboard/privacy.html",
    "dashboard/process.html",
    "dashboard/process_links.html",
    "dashboard/report.html",
    "dashboard/signin.html",
    "dashboard/audit.html",
    "dashboard/accounts.html",
    "dashboard/people.html",
    "dashboard/me.html",
    "dashboard/me_signin.html",
];

pub struct Pages {
    tera: Tera,
}

fn template_err(name: &str, e: tera::Error) -> Error {
    // tera puts the useful part (line, unknown variable) in the source chain.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Template {
        name: name.to_owned(),
        message,
    }
}

impl Pages {
    /// The compiled-in templates.
    pub fn builtin() -> Result<Pages> {
        let mut tera = Tera::default();
        tera.add_raw_templates(BUILTIN.iter().copied())
            .map_err(|e| template_err("dashboard", e))?;
        Ok(Pages { tera })
    }

    /// The templates of `dir` (a copy of `templates/`), falling back to the compiled-in ones for
    /// any file it lacks.
    pub fn from_dir(dir: &Path) -> Result<Pages> {
        let mut sources = Vec::new();
        for &(name, text) in BUILTIN {
            let path = dir.join(name);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => text.to_owned(),
                Err(source) => return Err(Error::Io { path, source }),
            };
            sources.push((name, text));
        }
        let mut tera = Tera::default();
        tera.add_raw_templates(sources)
            .map_err(|e| template_err(&dir.display().to_string(), e))?;
        Ok(Pages { tera })
    }

    pub fn render(&self, name: &str, ctx: &tera::Context) -> Result<String> {
        self.tera
            .render(name, ctx)
            .map_err(|e| template_err(name, e))
    }
}
