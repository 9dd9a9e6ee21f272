//! The privacy policy in force, as the privacy page shows it.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// What the privacy page shows: where the policy comes from, its text, and the figures that decide
/// what reports may show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Privacy {
    /// The policy file, or "built-in default policy".
    pub source: String,
    /// The policy file as written, when there is one.
    pub policy_yaml: Option<String>,
    /// Routines seen across fewer users than this are withheld (`min_users`).
    pub k: u64,
    /// What becomes of typed text by default (`none`, `mask`, `hash`, `plain`).
    pub text_mode: String,
    pub retention_days: Option<u64>,
    /// False when only k is known (a report from `taskmine mine`): the page then shows k alone.
    pub policy_known: bool,
}

impl Privacy {
    /// The recorder's built-in policy (text hashed, users pseudonymized, 90 days retention,
    /// k = 3), taken from the recorder, which owns it.
    pub fn builtin() -> Privacy {
        let policy = recorder::Policy::default();
        Privacy {
            source: "built-in default policy".into(),
            policy_yaml: None,
            k: policy.min_users.into(),
            text_mode: policy.text.name().into(),
            retention_days: policy.retention_days.map(u64::from),
            policy_known: true,
        }
    }

    /// Only k is known, from `source` (for example `taskmine mine --min-users`); the recorder's
    /// policy is not.
    pub fn k_only(k: u64, source: &str) -> Privacy {
        Privacy {
            source: source.to_owned(),
            policy_yaml: None,
            k: k.max(1),
            text_mode: String::new(),
            retention_days: None,
            policy_known: false,
        }
    }

    /// Reads a policy file (the recorder's YAML). Only the fields the reports need are interpreted,
    /// a field left out reads as the recorder's default; the recorder itself validates the rest
    /// when it loads the same file.
    pub fn from_file(path: &Path) -> Result<Privacy> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let err = |message: String| Error::Policy {
            path: path.to_path_buf(),
            message,
        };
        let value: serde_norway::Value =
            serde_norway::from_str(&text).map_err(|e| err(e.to_string()))?;
        let builtin = Privacy::builtin();
        let field = |name: &str| match &value {
            serde_norway::Value::Mapping(m) => m.get(name).cloned(),
            _ => None,
        };
        let k = match field("min_users") {
            None => builtin.k,
            Some(v) => v.as_u64().filter(|&k| k >= 1).ok_or_else(|| {
                err("field min_users: expected a whole number of at least 1".into())
            })?,
        };
        let text_mode = match field("text") {
            None => builtin.text_mode,
            Some(v) => v
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| err("field text: expected none, mask, hash or plain".into()))?,
        };
        let retention_days = match field("retention_days") {
            None => builtin.retention_days,
            Some(serde_norway::Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| err("field retention_days: expected a number of days".into()))?,
            ),
        };
        Ok(Privacy {
            source: path.display().to_string(),
            policy_yaml: Some(text),
            k,
            text_mode,
            retention_days,
            policy_known: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_policy_is_the_recorders_default() {
        let p = Privacy::builtin();
        assert_eq!(p.k, 3);
        assert_eq!(p.text_mode, "hash");
        assert_eq!(p.retention_days, Some(90));
        assert!(p.policy_known && p.policy_yaml.is_none());
    }

    #[test]
    fn a_policy_file_overrides_only_the_fields_it_sets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.yaml");
        std::fs::write(&path, "min_users: 5\nretention_days: null\n").unwrap();
        let p = Privacy::from_file(&path).unwrap();
        assert_eq!(
            (p.k, p.text_mode.as_str(), p.retention_days),
            (5, "hash", None)
        );
        std::fs::write(&path, "text: plain\n").unwrap();
        let p = Privacy::from_file(&path).unwrap();
        assert_eq!(
            (p.k, p.text_mode.as_str(), p.retention_days),
            (3, "plain", Some(90))
        );
        std::fs::write(&path, "min_users: 0\n").unwrap();
        let err = Privacy::from_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("policy.yaml") && err.contains("min_users"),
            "{err}"
        );
    }
}
