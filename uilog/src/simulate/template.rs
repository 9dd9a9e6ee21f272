//! The template engine of the catalogue: a string with `{slot}`, `{login}`, `{host}` and `{date}`
//! placeholders, parsed once when the catalogue is compiled and rendered for every event.

#[derive(Debug, Clone)]
pub(super) enum Piece {
    Lit(&'static str),
    Slot(usize),
    Login,
    Host,
    Date,
}

/// A string with `{slot}` placeholders, parsed once.
#[derive(Debug, Clone)]
pub(super) struct Tpl(pub(super) Vec<Piece>);

pub(super) struct Ctx<'a> {
    pub(super) slots: &'a [String],
    pub(super) login: &'a str,
    pub(super) host: &'a str,
    pub(super) date: &'a str,
}

impl Tpl {
    pub(super) fn compile(src: &'static str, slots: &[&str], routine: &str) -> Tpl {
        let mut pieces = Vec::new();
        let mut rest = src;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Lit(&rest[..open]));
            }
            let close = rest[open..].find('}').unwrap_or_else(|| {
                panic!("catalogue routine {routine:?}: unclosed '{{' in {src:?}")
            }) + open;
            let name = &rest[open + 1..close];
            pieces.push(match name {
                "login" => Piece::Login,
                "host" => Piece::Host,
                "date" => Piece::Date,
                _ => Piece::Slot(slots.iter().position(|s| *s == name).unwrap_or_else(|| {
                    panic!("catalogue routine {routine:?}: unknown slot {{{name}}} in {src:?}")
                })),
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Lit(rest));
        }
        Tpl(pieces)
    }

    pub(super) fn render(&self, out: &mut String, ctx: &Ctx<'_>) {
        for p in &self.0 {
            out.push_str(match p {
                Piece::Lit(s) => s,
                Piece::Slot(i) => &ctx.slots[*i],
                Piece::Login => ctx.login,
                Piece::Host => ctx.host,
                Piece::Date => ctx.date,
            });
        }
    }

    pub(super) fn to_string(&self, ctx: &Ctx<'_>) -> String {
        let mut s = String::new();
        self.render(&mut s, ctx);
        s
    }
}
