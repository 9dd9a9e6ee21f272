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
    // A bot without inputs has a parameter file of one empty column (`""`): its rows only count
    // the runs.
    let no_inputs = names.is_empty() && header.iter().all(String::is_empty);
    for n in &names {
        if !header.iter().any(|h| h == n) {
            return Err(err(
                1,
                format!("no column {n:?} for input {n:?} (columns: {header:?})"),
            ));
        }
    }
    if let Some(extra) = header
        .iter()
        .find(|h| !no_inputs && !names.contains(&h.as_str()))
    {
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
        rows.push(if no_inputs {
            Params::new()
        } else {
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        });
    }
    if rows.is_empty() {
        return Err(err(
            1,
            "no rows: a parameter file needs one row per run".into(),
        ));
    }
    Ok(rows)
}

/// Fails on the first row that leaves a required input (one whose samples the policy removed)
/// empty, naming the row's line in `path` (rows from a file: header on line 1).
pub fn check_required(bot: &Bot, rows: &[Params], path: Option<&Path>) -> Result<()> {
    for (i, row) in rows.iter().enumerate() {
        if let Some(name) = bot.missing_required(row).first() {
            let message = format!(
                "column {name:?}: input {name:?} is required (the log kept no sample of it) and has no value"
            );
            return Err(match path {
                Some(p) => Error::Params {
                    path: p.to_path_buf(),
                    line: i as u64 + 2,
                    message,
                },
                None => Error::Invalid {
                    bot: bot.name.clone(),
                    location: format!("inputs ({name})"),
                    message: format!("{message}: give the values with --params FILE.csv"),
                },
            });
        }
    }
    Ok(())
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

    #[test]
    fn a_bot_without_inputs_reads_its_own_parameter_file() {
        let mut bot = small_bot();
        bot.inputs.clear();
        bot.steps[1].text = Some("ls".into());
        bot.postconditions.clear();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("params.csv");
        std::fs::write(&p, to_csv(&bot, &[Params::new(), Params::new()]).unwrap()).unwrap();
        assert_eq!(read(&p, &bot).unwrap(), vec![Params::new(), Params::new()]);
        std::fs::write(&p, "extra\n1\n").unwrap();
        assert!(read(&p, &bot)
            .unwrap_err()
            .to_string()
            .contains("\"extra\""));
    }

    #[test]
    fn a_required_input_left_empty_names_the_line_and_column() {
        let mut bot = small_bot();
        bot.inputs[0].samples.clear();
        bot.inputs[0].required = true;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("params.csv");
        std::fs::write(&p, "value\nx\n\"\"\n").unwrap();
        let rows = read(&p, &bot).unwrap();
        let e = check_required(&bot, &rows, Some(&p))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("params.csv, line 3") && e.contains("\"value\" is required"),
            "{e}"
        );
        check_required(&bot, &rows[..1], Some(&p)).unwrap();
        let e = check_required(&bot, &[bot.sample_params()], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--params"), "{e}");
    }
}
