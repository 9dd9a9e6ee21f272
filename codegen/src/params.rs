//! Parameter files: CSV with a header of input names and one row per run.

use std::path::Path;

use crate::bot::{Bot, Params};
use crate::error::{Error, Result};

/// Reads a parameter file for `bot`: every input needs a column; extra columns are errors too, since
/// they usually mean a misspelt name.
pub fn read(path: &Path, bot: &Bot) -> Result<Vec<Params>> {
    let err = |line: u64, message: String| Error::Params {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::None)
        .from_path(path)
        .map_err(|e| err(0, e.to_string()))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| err(1, e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let names = bot.input_names();
    for n in &names {
        if !header.iter().any(|h| h == n) {
            return Err(err(
                1,
                format!("no column {n:?} for input {n:?} (columns: {header:?})"),
            ));
        }
    }
    if let Some(extra) = header.iter().find(|h| !names.contains(&h.as_str())) {
        return Err(err(
            1,
            format!(
                "column {extra:?} names no input of bot {:?} (inputs: {names:?})",
                bot.name
            ),
        ));
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, e.to_string())
        })?;
        rows.push(
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect(),
        );
    }
    if rows.is_empty() {
        return Err(err(
            1,
            "no rows: a parameter file needs one row per run".into(),
        ));
    }
    Ok(rows)
}

/// The parameter file as text, columns in input order.
pub fn to_csv(bot: &Bot, rows: &[Params]) -> Result<String> {
    let names = bot.input_names();
    let mut w = csv::Writer::from_writer(Vec::new());
    let bad = |e: csv::Error| Error::Invalid {
        bot: bot.name.clone(),
        location: "params".into(),
        message: e.to_string(),
    };
    w.write_record(&names).map_err(bad)?;
    for r in rows {
        w.write_record(names.iter().map(|n| r.get(*n).map_or("", String::as_str)))
            .map_err(bad)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Invalid {
        bot: bot.name.clone(),
        location: "params".into(),
        message: e.to_string(),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::tests::small_bot;

    #[test]
    fn rows_round_trip_and_bad_columns_name_the_line() {
        let bot = small_bot();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        let mut row = Params::new();
        row.insert("value".into(), "a, \"b\"".into());
        std::fs::write(&p, to_csv(&bot, &[row.clone(), row.clone()]).unwrap()).unwrap();
        assert_eq!(read(&p, &bot).unwrap(), vec![row.clone(), row]);

        std::fs::write(&p, "valeu\nx\n").unwrap();
        let e = read(&p, &bot).unwrap_err().to_string();
        assert!(
            e.contains("p.csv, line 1") && e.contains("\"value\""),
            "{e}"
        );

        std::fs::write(&p, "value\nx\ny,z\n").unwrap();
        let e = read(&p, &bot).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");

        std::fs::write(&p, "value\n").unwrap();
        assert!(read(&p, &bot).unwrap_err().to_string().contains("no rows"));
    }
}
