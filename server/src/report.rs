//! `taskmine mine --report FILE.html`: the dashboard's views as one self-contained HTML file (styles
//! and SVG inline, no scripts, no links outside the file).

use crate::analysis::Analysis;
use crate::error::Result;
use crate::pages::Pages;
use crate::views;

/// Renders the report with the compiled-in templates.
pub fn render(a: &Analysis) -> Result<String> {
    render_with(&Pages::builtin()?, a)
}

/// Renders the report with the given templates.
pub fn render_with(pages: &Pages, a: &Analysis) -> Result<String> {
    let mut ctx = views::context(a, "#routine-");
    let routines: Vec<views::RoutineView> = a
        .mining
        .routines
        .iter()
        .map(|r| views::routine(a, r))
        .collect();
    ctx.insert("routines", &routines);
    ctx.insert("nav_overview", "#overview");
    ctx.insert("nav_candidates", "#candidates-section");
    ctx.insert("nav_privacy", "#privacy");
    ctx.insert("standalone", &true);
    pages.render("dashboard/report.html", &ctx)
}
