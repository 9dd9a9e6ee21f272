//! The built-in routines: realistic desktop tasks across a mail client, a browser with web forms, a
//! spreadsheet, a terminal, an ERP client and a text editor.
//!
//! Each routine is written as the sequence of events of its dominant variant. A step is one event
//! template; `{name}` in a title, element, value or attribute is a per-instance value declared with
//! `.slot`, or one of the session-wide values `{login}`, `{host}` and `{date}` (the session's day).
//! Deviations are declared where they happen:
//! - `.optional(name, why, steps)`: steps of the dominant variant that the `name` variant skips;
//! - `.alt(name, why, dominant, instead)`: steps that the `name` variant does differently;
//! - `.extra(name, why, steps)`: steps that only the `name` variant adds here.
//!
//! Routines share some actions (four start by opening a mail from the inbox, three end by sending a
//! mail), as real ones do, but each has its own sequence of apps, windows and fields.
//!
//! The routine functions are `#[rustfmt::skip]` so that each step stays on one line: read down a
//! routine as down the log it produces.

use super::model::{App, Part, RoutineDef, Step};
use super::values as v;
use crate::event::EventKind;

const INBOX: &str = "Inbox - Mozilla Thunderbird";

pub(super) fn routines() -> Vec<RoutineDef> {
    vec![
        supplier_invoice(),
        support_ticket(),
        export_report(),
        disk_usage(),
        order_status(),
        new_employee(),
        price_update(),
        backup_report(),
        purchase_approval(),
        travel_expense(),
        customer_record(),
        customer_from_list(),
    ]
}

#[rustfmt::skip]
fn supplier_invoice() -> RoutineDef {
    const MSG: &str = "Invoice {inv} from {supplier} - Mozilla Thunderbird";
    const LIST: &str = "Supplier Invoices - Tryton";
    const NEW: &str = "Supplier Invoice (new) - Tryton";
    RoutineDef::new("Enter a supplier invoice from a mail into the ERP", 1.0)
        .slot("inv", |g| v::number(g, 10_000, 99_999))
        .slot("supplier", v::company)
        .slot("amount", v::amount)
        .slot("due", |g| v::date_after(g, 10, 45))
        .step(focus(App::Mail, INBOX))
        .step(dclick(App::Mail, INBOX, ("treeitem", "Invoice {inv} from {supplier}", "threadTree"), (430, 188)))
        .step(dclick(App::Mail, MSG, ("text", "{inv}", "messagepane"), (512, 402)))
        .step(copy(App::Mail, MSG, ("text", "{inv}", "messagepane"), "{inv}"))
        .step(focus(App::Erp, LIST))
        .step(click(App::Erp, LIST, ("button", "New", "btn-new"), (34, 62)))
        .step(click(App::Erp, NEW, ("textbox", "Reference", "field-reference"), (260, 148)))
        .step(paste(App::Erp, NEW, ("textbox", "Reference", "field-reference"), "{inv}"))
        .step(click(App::Erp, NEW, ("combobox", "Supplier", "field-party"), (260, 182)))
        .step(typ(App::Erp, NEW, ("combobox", "Supplier", "field-party"), "{supplier}"))
        .alt(
            "copy-amount",
            "copies the amount from the mail instead of typing it",
            vec![
                click(App::Erp, NEW, ("textbox", "Amount", "field-amount"), (260, 216)),
                typ(App::Erp, NEW, ("textbox", "Amount", "field-amount"), "{amount}"),
            ],
            vec![
                focus(App::Mail, MSG),
                dclick(App::Mail, MSG, ("text", "{amount}", "messagepane"), (610, 448)),
                copy(App::Mail, MSG, ("text", "{amount}", "messagepane"), "{amount}"),
                focus(App::Erp, NEW),
                click(App::Erp, NEW, ("textbox", "Amount", "field-amount"), (260, 216)),
                paste(App::Erp, NEW, ("textbox", "Amount", "field-amount"), "{amount}"),
            ],
        )
        .optional(
            "no-due-date",
            "leaves the due date empty",
            vec![
                click(App::Erp, NEW, ("textbox", "Due Date", "field-due_date"), (620, 216)),
                typ(App::Erp, NEW, ("textbox", "Due Date", "field-due_date"), "{due}"),
            ],
        )
        .alt(
            "toolbar-save",
            "saves with the toolbar button instead of ctrl+s",
            vec![key(App::Erp, NEW, "ctrl+s")],
            vec![click(App::Erp, NEW, ("button", "Save", "btn-save"), (96, 62))],
        )
}

#[rustfmt::skip]
fn support_ticket() -> RoutineDef {
    const SHEET: &str = "open-requests.xlsx - LibreOffice Calc";
    const FORM: &str = "New ticket - Helpdesk — Mozilla Firefox";
    const DONE: &str = "Ticket #{ticket} - Helpdesk — Mozilla Firefox";
    const URL: &str = "https://helpdesk.example.com/tickets/new";
    let cell = |c: &'static str, x: i32| {
        move |s: Step| s.attr("workbook", "open-requests.xlsx").attr("sheet", "Requests").attr("cell", c).at_x(x)
    };
    RoutineDef::new("Create a support ticket from a spreadsheet row", 0.9)
        .slot("row", |g| v::number(g, 2, 400))
        .slot("customer", v::full_name)
        .slot("issue", v::issue)
        .slot("ticket", |g| v::number(g, 100_000, 999_999))
        .step(focus(App::Calc, SHEET))
        .step(cell("A{row}", 70)(click(App::Calc, SHEET, ("cell", "", "A{row}"), (0, 310))))
        .step(cell("A{row}", 70)(copy(App::Calc, SHEET, ("cell", "", "A{row}"), "{customer}")))
        .step(focus(App::Browser, FORM).attr("url", URL))
        .step(click(App::Browser, FORM, ("INPUT", "Customer", "customer"), (300, 210)).attr("url", URL))
        .step(paste(App::Browser, FORM, ("INPUT", "Customer", "customer"), "{customer}").attr("url", URL))
        .step(focus(App::Calc, SHEET))
        .step(cell("B{row}", 240)(click(App::Calc, SHEET, ("cell", "", "B{row}"), (0, 310))))
        .step(cell("B{row}", 240)(copy(App::Calc, SHEET, ("cell", "", "B{row}"), "{issue}")))
        .step(focus(App::Browser, FORM).attr("url", URL))
        .step(click(App::Browser, FORM, ("INPUT", "Subject", "subject"), (300, 260)).attr("url", URL))
        .step(paste(App::Browser, FORM, ("INPUT", "Subject", "subject"), "{issue}").attr("url", URL))
        .optional(
            "default-priority",
            "keeps the default priority",
            vec![
                click(App::Browser, FORM, ("SELECT", "Priority", "priority"), (300, 310)).attr("url", URL),
                click(App::Browser, FORM, ("OPTION", "High", "priority-high"), (300, 352)).attr("url", URL),
            ],
        )
        .alt(
            "enter-submit",
            "submits the form with Enter instead of the button",
            vec![click(App::Browser, FORM, ("BUTTON", "Create ticket", "submit"), (300, 420)).attr("url", URL)],
            vec![key(App::Browser, FORM, "enter").attr("url", URL)],
        )
        .alt(
            "copy-ticket",
            "copies the new ticket number from the page and pastes it instead of typing it",
            vec![
                focus(App::Calc, SHEET),
                cell("C{row}", 400)(click(App::Calc, SHEET, ("cell", "", "C{row}"), (0, 310))),
                cell("C{row}", 400)(typ(App::Calc, SHEET, ("cell", "", "C{row}"), "{ticket}")),
            ],
            vec![
                dclick(App::Browser, DONE, ("H1", "Ticket #{ticket}", "ticket-title"), (260, 140)).attr("url", "https://helpdesk.example.com/tickets/{ticket}"),
                copy(App::Browser, DONE, ("H1", "Ticket #{ticket}", "ticket-title"), "{ticket}").attr("url", "https://helpdesk.example.com/tickets/{ticket}"),
                focus(App::Calc, SHEET),
                cell("C{row}", 400)(click(App::Calc, SHEET, ("cell", "", "C{row}"), (0, 310))),
                cell("C{row}", 400)(paste(App::Calc, SHEET, ("cell", "", "C{row}"), "{ticket}")),
            ],
        )
}

#[rustfmt::skip]
fn export_report() -> RoutineDef {
    const SHEET: &str = "sales-{region}-{date}.ods - LibreOffice Calc";
    const WRITE: &str = "Write: (no subject) - Mozilla Thunderbird";
    const WRITE2: &str = "Write: Sales {region} {date} - Mozilla Thunderbird";
    RoutineDef::new("Export a sales report as PDF and mail it", 0.6)
        .slot("region", v::region)
        .slot("to", v::email)
        .step(focus(App::Calc, SHEET))
        .step(click(App::Calc, SHEET, ("menu", "File", "menu-file"), (22, 38)))
        .step(click(App::Calc, SHEET, ("menuitem", "Export as PDF...", "menu-export-pdf"), (90, 412)))
        .step(click(App::Calc, "PDF Options", ("button", "Export", "ok"), (520, 610)))
        .step(typ(App::Calc, "Export", ("textbox", "Name", "file-name"), "sales-{region}-{date}.pdf"))
        .step(key(App::Calc, "Export", "enter"))
        .step(focus(App::Mail, INBOX))
        .step(click(App::Mail, INBOX, ("button", "Write", "button-newmsg"), (60, 70)))
        .step(typ(App::Mail, WRITE, ("textbox", "To", "to-field"), "{to}"))
        .step(click(App::Mail, WRITE, ("textbox", "Subject", "msgSubject"), (300, 160)))
        .step(typ(App::Mail, WRITE, ("textbox", "Subject", "msgSubject"), "Sales {region} {date}"))
        .extra(
            "greeting",
            "writes a line of text before attaching the report",
            vec![
                click(App::Mail, WRITE2, ("document", "Message body", "content-frame"), (300, 380)),
                typ(App::Mail, WRITE2, ("document", "Message body", "content-frame"), "Hi, the {region} figures are attached."),
            ],
        )
        .step(click(App::Mail, WRITE2, ("button", "Attach", "button-attach"), (420, 70)))
        .step(dclick(App::Mail, "Attach File(s)", ("listitem", "sales-{region}-{date}.pdf", "file-list"), (300, 240)))
        .alt(
            "shortcut-send",
            "sends with ctrl+enter instead of the Send button",
            vec![click(App::Mail, WRITE2, ("button", "Send", "button-send"), (30, 70))],
            vec![key(App::Mail, WRITE2, "ctrl+enter")],
        )
}

#[rustfmt::skip]
fn disk_usage() -> RoutineDef {
    const LOCAL: &str = "{login}@{host}: ~";
    const REMOTE: &str = "{login}@{server}: ~";
    const NOTES: &str = "disk-usage.txt (~/notes) - gedit";
    RoutineDef::new("Check disk usage on a server and note it in a text file", 0.6)
        .slot("server", v::server)
        .slot("usage", v::df_line)
        .step(focus(App::Terminal, LOCAL))
        .step(typ(App::Terminal, LOCAL, ("terminal", "", "vt"), "ssh {server}"))
        .step(key(App::Terminal, LOCAL, "enter"))
        .step(typ(App::Terminal, REMOTE, ("terminal", "", "vt"), "df -h /var"))
        .step(key(App::Terminal, REMOTE, "enter"))
        .step(dclick(App::Terminal, REMOTE, ("terminal", "", "vt"), (470, 530)))
        .step(copy(App::Terminal, REMOTE, ("terminal", "", "vt"), "{usage}"))
        .extra(
            "exit-ssh",
            "logs out of the server before writing the note",
            vec![
                typ(App::Terminal, REMOTE, ("terminal", "", "vt"), "exit"),
                key(App::Terminal, REMOTE, "enter"),
            ],
        )
        .step(focus(App::Editor, NOTES))
        .optional(
            "no-ctrl-end",
            "is already at the end of the file",
            vec![key(App::Editor, NOTES, "ctrl+end")],
        )
        .step(typ(App::Editor, NOTES, ("text", "", "view"), "{date} {server} "))
        .step(paste(App::Editor, NOTES, ("text", "", "view"), "{usage}"))
        .alt(
            "menu-save",
            "saves with the Save button instead of ctrl+s",
            vec![key(App::Editor, NOTES, "ctrl+s")],
            vec![click(App::Editor, NOTES, ("button", "Save", "save"), (1180, 24))],
        )
}

#[rustfmt::skip]
fn order_status() -> RoutineDef {
    const MSG: &str = "Order status {order} - Mozilla Thunderbird";
    const LIST: &str = "Sales - Tryton";
    const SALE: &str = "Sale {order} - Tryton";
    const REPLY: &str = "Write: Re: Order status {order} - Mozilla Thunderbird";
    RoutineDef::new("Answer an order status request with the delivery date from the ERP", 0.8)
        .slot("order", |g| format!("SO{}", v::number(g, 10_000, 99_999)))
        .slot("customer", v::full_name)
        .slot("delivery", |g| v::date_after(g, 2, 30))
        .step(focus(App::Mail, INBOX))
        .step(dclick(App::Mail, INBOX, ("treeitem", "Order status {order}", "threadTree"), (430, 188)))
        .step(dclick(App::Mail, MSG, ("text", "{order}", "messagepane"), (380, 364)))
        .step(copy(App::Mail, MSG, ("text", "{order}", "messagepane"), "{order}"))
        .step(focus(App::Erp, LIST))
        .step(click(App::Erp, LIST, ("textbox", "Search", "search-entry"), (400, 96)))
        .step(paste(App::Erp, LIST, ("textbox", "Search", "search-entry"), "{order}"))
        .alt(
            "search-button",
            "starts the search with the button instead of Enter",
            vec![key(App::Erp, LIST, "enter")],
            vec![click(App::Erp, LIST, ("button", "Search", "btn-search"), (720, 96))],
        )
        .step(dclick(App::Erp, LIST, ("row", "{order}", "list-row"), (200, 150)))
        .step(dclick(App::Erp, SALE, ("textbox", "Delivery Date", "field-delivery_date"), (620, 240)))
        .step(copy(App::Erp, SALE, ("textbox", "Delivery Date", "field-delivery_date"), "{delivery}"))
        .step(focus(App::Mail, MSG))
        .step(click(App::Mail, MSG, ("button", "Reply", "hdrReplyButton"), (890, 120)))
        .optional(
            "no-greeting",
            "answers with the date only",
            vec![typ(App::Mail, REPLY, ("document", "Message body", "content-frame"), "Dear {customer}, your order ships on ")],
        )
        .step(paste(App::Mail, REPLY, ("document", "Message body", "content-frame"), "{delivery}"))
        .step(click(App::Mail, REPLY, ("button", "Send", "button-send"), (30, 70)))
}

#[rustfmt::skip]
fn new_employee() -> RoutineDef {
    const MSG: &str = "New hire: {first} {last} - Mozilla Thunderbird";
    const FORM: &str = "New employee - HR Portal — Mozilla Firefox";
    const URL: &str = "https://hr.example.com/employees/new";
    let form = |s: Step| s.attr("url", URL);
    RoutineDef::new("Register a new employee in the HR web form from a mail", 0.7)
        .slot("first", v::first_name)
        .slot("last", v::last_name)
        .slot("email", |g| v::email_of(&g.prev[0], &g.prev[1]))
        .slot("start", |g| v::date_after(g, 7, 60))
        .slot("dept", v::department)
        .step(focus(App::Mail, INBOX))
        .step(dclick(App::Mail, INBOX, ("treeitem", "New hire: {first} {last}", "threadTree"), (430, 188)))
        .step(dclick(App::Mail, MSG, ("text", "{first}", "messagepane"), (320, 380)))
        .step(copy(App::Mail, MSG, ("text", "{first}", "messagepane"), "{first}"))
        .step(form(focus(App::Browser, FORM)))
        .step(form(click(App::Browser, FORM, ("INPUT", "First name", "first_name"), (320, 220))))
        .step(form(paste(App::Browser, FORM, ("INPUT", "First name", "first_name"), "{first}")))
        .step(focus(App::Mail, MSG))
        .step(dclick(App::Mail, MSG, ("text", "{last}", "messagepane"), (380, 380)))
        .step(copy(App::Mail, MSG, ("text", "{last}", "messagepane"), "{last}"))
        .step(form(focus(App::Browser, FORM)))
        .step(form(click(App::Browser, FORM, ("INPUT", "Last name", "last_name"), (320, 262))))
        .step(form(paste(App::Browser, FORM, ("INPUT", "Last name", "last_name"), "{last}")))
        .alt(
            "type-email",
            "types the e-mail address instead of copying it from the mail",
            vec![
                focus(App::Mail, MSG),
                dclick(App::Mail, MSG, ("text", "{email}", "messagepane"), (360, 420)),
                copy(App::Mail, MSG, ("text", "{email}", "messagepane"), "{email}"),
                form(focus(App::Browser, FORM)),
                form(click(App::Browser, FORM, ("INPUT", "E-mail", "email"), (320, 304))),
                form(paste(App::Browser, FORM, ("INPUT", "E-mail", "email"), "{email}")),
            ],
            vec![
                form(click(App::Browser, FORM, ("INPUT", "E-mail", "email"), (320, 304))),
                form(typ(App::Browser, FORM, ("INPUT", "E-mail", "email"), "{email}")),
            ],
        )
        .optional(
            "no-start-date",
            "leaves the start date for HR to fill in",
            vec![
                form(click(App::Browser, FORM, ("INPUT", "Start date", "start_date"), (320, 346))),
                form(typ(App::Browser, FORM, ("INPUT", "Start date", "start_date"), "{start}")),
            ],
        )
        .step(form(click(App::Browser, FORM, ("SELECT", "Department", "department"), (320, 388))))
        .step(form(click(App::Browser, FORM, ("OPTION", "{dept}", "department-option"), (320, 430))))
        .step(form(click(App::Browser, FORM, ("BUTTON", "Save", "save"), (320, 500))))
}

#[rustfmt::skip]
fn price_update() -> RoutineDef {
    const LIST: &str = "Products - Tryton";
    const PRODUCT: &str = "Product {sku} - Tryton";
    const SHEET: &str = "price-list.xlsx - LibreOffice Calc";
    let sheet = |s: Step| s.attr("workbook", "price-list.xlsx").attr("sheet", "Prices");
    RoutineDef::new("Update a price in the price list from the ERP", 0.6)
        .slot("sku", |g| format!("P-{}", v::number(g, 10_000, 99_999)))
        .slot("price", v::amount)
        .slot("row", |g| v::number(g, 2, 900))
        .step(focus(App::Erp, LIST))
        .step(click(App::Erp, LIST, ("textbox", "Search", "search-entry"), (400, 96)))
        .step(typ(App::Erp, LIST, ("textbox", "Search", "search-entry"), "{sku}"))
        .step(key(App::Erp, LIST, "enter"))
        .step(dclick(App::Erp, LIST, ("row", "{sku}", "list-row"), (200, 150)))
        .step(dclick(App::Erp, PRODUCT, ("textbox", "List Price", "field-list_price"), (620, 300)))
        .step(copy(App::Erp, PRODUCT, ("textbox", "List Price", "field-list_price"), "{price}"))
        .step(sheet(focus(App::Calc, SHEET)))
        .alt(
            "click-cell",
            "scrolls to the cell and clicks it instead of using the Name Box",
            vec![
                sheet(click(App::Calc, SHEET, ("textbox", "Name Box", "name-box"), (40, 96))),
                sheet(typ(App::Calc, SHEET, ("textbox", "Name Box", "name-box"), "D{row}")),
                sheet(key(App::Calc, SHEET, "enter")),
            ],
            vec![sheet(click(App::Calc, SHEET, ("cell", "", "D{row}"), (560, 420)).attr("cell", "D{row}"))],
        )
        .step(sheet(paste(App::Calc, SHEET, ("cell", "", "D{row}"), "{price}").attr("cell", "D{row}")))
        .step(sheet(key(App::Calc, SHEET, "ctrl+s")))
        .extra(
            "keep-format",
            "confirms the keep-format dialog that saving as .xlsx asks",
            vec![click(App::Calc, "Keep current format", ("button", "Use Excel 2007-365!", "keep"), (300, 180))],
        )
}

#[rustfmt::skip]
fn backup_report() -> RoutineDef {
    const LOCAL: &str = "{login}@{host}: ~";
    const WRITE: &str = "Write: (no subject) - Mozilla Thunderbird";
    const WRITE2: &str = "Write: Backup {date} - Mozilla Thunderbird";
    RoutineDef::new("Mail the result of the nightly backup from the terminal", 0.5)
        .slot("line", v::backup_line)
        .step(focus(App::Terminal, LOCAL))
        .step(typ(App::Terminal, LOCAL, ("terminal", "", "vt"), "tail -n 1 /var/log/backup.log"))
        .step(key(App::Terminal, LOCAL, "enter"))
        .alt(
            "triple-click",
            "selects the line with a triple click instead of dragging",
            vec![drag(App::Terminal, LOCAL, (12, 540))],
            vec![dclick(App::Terminal, LOCAL, ("terminal", "", "vt"), (200, 540))],
        )
        .step(copy(App::Terminal, LOCAL, ("terminal", "", "vt"), "{line}"))
        .step(focus(App::Mail, INBOX))
        .step(click(App::Mail, INBOX, ("button", "Write", "button-newmsg"), (60, 70)))
        .step(typ(App::Mail, WRITE, ("textbox", "To", "to-field"), "ops@example.com"))
        .optional(
            "no-subject",
            "sends without a subject",
            vec![
                click(App::Mail, WRITE, ("textbox", "Subject", "msgSubject"), (300, 160)),
                typ(App::Mail, WRITE, ("textbox", "Subject", "msgSubject"), "Backup {date}"),
            ],
        )
        .step(click(App::Mail, WRITE2, ("document", "Message body", "content-frame"), (300, 380)))
        .step(paste(App::Mail, WRITE2, ("document", "Message body", "content-frame"), "{line}"))
        .step(click(App::Mail, WRITE2, ("button", "Send", "button-send"), (30, 70)))
}

#[rustfmt::skip]
fn purchase_approval() -> RoutineDef {
    const LIST: &str = "Purchase Requests - Tryton";
    const REQ: &str = "Purchase Request PR{pr} - Tryton";
    RoutineDef::new("Approve a purchase request in the ERP", 0.7)
        .slot("pr", |g| v::number(g, 1_000, 9_999))
        .step(focus(App::Erp, LIST))
        .step(dclick(App::Erp, LIST, ("row", "PR{pr}", "list-row"), (200, 150)))
        .extra(
            "read-comments",
            "reads the comments tab before approving",
            vec![
                click(App::Erp, REQ, ("tab", "Comments", "tab-comments"), (340, 120)),
                scroll(App::Erp, REQ, (500, 420)),
            ],
        )
        .step(click(App::Erp, REQ, ("button", "Approve", "btn-approve"), (820, 62)))
        .step(click(App::Erp, "Confirm", ("button", "OK", "ok"), (260, 150)))
        .optional(
            "keep-open",
            "leaves the request open",
            vec![key(App::Erp, REQ, "ctrl+w")],
        )
}

#[rustfmt::skip]
fn travel_expense() -> RoutineDef {
    const MSG: &str = "Receipt {receipt} from {vendor} - Mozilla Thunderbird";
    const FORM: &str = "New expense - Travel Portal — Mozilla Firefox";
    const URL: &str = "https://travel.example.com/expenses/new";
    let form = |s: Step| s.attr("url", URL);
    RoutineDef::new("File a travel expense from a receipt mail", 0.5)
        .slot("receipt", |g| v::number(g, 100_000, 999_999))
        .slot("vendor", v::vendor)
        .slot("amount", v::amount)
        .slot("paid", |g| v::date_before(g, 1, 20))
        .step(focus(App::Mail, INBOX))
        .step(dclick(App::Mail, INBOX, ("treeitem", "Receipt {receipt} from {vendor}", "threadTree"), (430, 188)))
        .step(dclick(App::Mail, MSG, ("text", "{amount}", "messagepane"), (560, 430)))
        .step(copy(App::Mail, MSG, ("text", "{amount}", "messagepane"), "{amount}"))
        .step(form(focus(App::Browser, "Expenses - Travel Portal — Mozilla Firefox")))
        .step(form(click(App::Browser, "Expenses - Travel Portal — Mozilla Firefox", ("A", "New expense", "new-expense"), (120, 180))))
        .step(form(click(App::Browser, FORM, ("INPUT", "Amount", "amount"), (320, 230))))
        .step(form(paste(App::Browser, FORM, ("INPUT", "Amount", "amount"), "{amount}")))
        .step(form(click(App::Browser, FORM, ("INPUT", "Vendor", "vendor"), (320, 272))))
        .step(form(typ(App::Browser, FORM, ("INPUT", "Vendor", "vendor"), "{vendor}")))
        .optional(
            "no-date",
            "lets the form default the date",
            vec![
                form(click(App::Browser, FORM, ("INPUT", "Date", "date"), (320, 314))),
                form(typ(App::Browser, FORM, ("INPUT", "Date", "date"), "{paid}")),
            ],
        )
        .alt(
            "attach-receipt",
            "attaches the receipt file before submitting",
            vec![form(click(App::Browser, FORM, ("BUTTON", "Submit", "submit"), (320, 400)))],
            vec![
                form(click(App::Browser, FORM, ("INPUT", "Receipt", "receipt-file"), (320, 356))),
                dclick(App::Browser, "File Upload", ("listitem", "receipt-{receipt}.pdf", "file-list"), (300, 240)),
                form(click(App::Browser, FORM, ("BUTTON", "Submit", "submit"), (320, 400))),
            ],
        )
}

/// The long one: ten fields copied one by one from a spreadsheet row into a web form, the same
/// block of steps (cell → copy → form → field → paste → back) ten times with different fields, as
/// data-entry work is recorded in the wild (a real one had 62 steps).
#[rustfmt::skip]
fn customer_record() -> RoutineDef {
    const SHEET: &str = "new-customers.xlsx - LibreOffice Calc";
    const FORM: &str = "New customer - CRM — Mozilla Firefox";
    const URL: &str = "https://crm.example.com/customers/new";
    // (label, HTML id, cell, value, x of the spreadsheet column)
    const FIELDS: [(&str, &str, &str, &str, i32); 10] = [
        ("First name", "first_name", "A{row}", "{first}", 60),
        ("Last name", "last_name", "B{row}", "{last}", 150),
        ("E-mail", "email", "C{row}", "{email}", 240),
        ("Phone", "phone", "D{row}", "{phone}", 330),
        ("Street", "street", "E{row}", "{street}", 420),
        ("City", "city", "F{row}", "{city}", 510),
        ("Country", "country", "G{row}", "{country}", 600),
        ("Postcode", "postcode", "H{row}", "{postcode}", 690),
        ("Company", "company", "I{row}", "{company}", 780),
        ("Date of birth", "birth_date", "J{row}", "{birth}", 870),
    ];
    let sheet = |s: Step| s.attr("workbook", "new-customers.xlsx").attr("sheet", "Customers");
    let form = |s: Step| s.attr("url", URL);
    let field_y = |i: usize| 200 + 42 * i as i32;
    let block = |i: usize| {
        let (label, id, cell, value, x) = FIELDS[i];
        let mut steps = vec![
            sheet(click(App::Calc, SHEET, ("cell", "", cell), (x, 310))).attr("cell", cell),
            sheet(copy(App::Calc, SHEET, ("cell", "", cell), value)).attr("cell", cell),
            form(focus(App::Browser, FORM)),
            form(click(App::Browser, FORM, ("INPUT", label, id), (340, field_y(i)))),
            form(paste(App::Browser, FORM, ("INPUT", label, id), value)),
        ];
        if i + 1 < FIELDS.len() {
            steps.push(sheet(focus(App::Calc, SHEET)));
        }
        steps
    };
    let mut def = RoutineDef::new("Enter a customer record from a spreadsheet row into the CRM web form", 0.5)
        .slot("row", |g| v::number(g, 2, 600))
        .slot("first", v::first_name)
        .slot("last", v::last_name)
        .slot("email", |g| v::email_of(&g.prev[1], &g.prev[2]))
        .slot("phone", v::phone)
        .slot("street", v::street)
        .slot("city", v::city)
        .slot("country", v::country_of_city)
        .slot("postcode", v::postcode)
        .slot("company", v::company)
        .slot("birth", |g| v::date_before(g, 7_000, 22_000))
        .step(sheet(focus(App::Calc, SHEET)));
    for (i, &(label, id, _, value, _)) in FIELDS.iter().enumerate() {
        def = match id {
            "postcode" => def.alt(
                "type-postcode",
                "types the postcode instead of copying it",
                block(i),
                vec![
                    form(focus(App::Browser, FORM)),
                    form(click(App::Browser, FORM, ("INPUT", label, id), (340, field_y(i)))),
                    form(typ(App::Browser, FORM, ("INPUT", label, id), value)),
                    sheet(focus(App::Calc, SHEET)),
                ],
            ),
            "company" => def.optional("no-company", "leaves the company empty for a private customer", block(i)),
            _ => block(i).into_iter().fold(def, RoutineDef::step),
        };
    }
    def.alt(
        "enter-save",
        "saves the form with Enter instead of the button",
        vec![form(click(App::Browser, FORM, ("BUTTON", "Save", "save"), (340, 660)))],
        vec![form(key(App::Browser, FORM, "enter"))],
    )
    .step(sheet(focus(App::Calc, SHEET)))
    .step(sheet(click(App::Calc, SHEET, ("cell", "", "K{row}"), (960, 310))).attr("cell", "K{row}"))
    .step(sheet(typ(App::Calc, SHEET, ("cell", "", "K{row}"), "entered")).attr("cell", "K{row}"))
}

/// The form of issue 10's trial on a real desktop: a customer read off a list in a terminal and
/// typed into a web form (First name, Last name, E-mail, Save). The terminal exposes no elements, the
/// browser often none either, which leaves the clicks only their positions.
#[rustfmt::skip]
fn customer_from_list() -> RoutineDef {
    const LIST: &str = "{login}@{host}: ~/lists";
    const FORM: &str = "Customer form — Mozilla Firefox";
    const URL: &str = "http://localhost:8000/form.html";
    let form = |s: Step| s.attr("url", URL);
    RoutineDef::new("Type a customer from a list in the terminal into a web form", 0.6)
        .slot("first", v::first_name)
        .slot("last", v::last_name)
        .slot("email", |g| v::email_of(&g.prev[0], &g.prev[1]))
        .step(focus(App::Terminal, LIST))
        .step(scroll(App::Terminal, LIST, (400, 300)))
        .step(form(focus(App::Browser, FORM)))
        .step(form(click(App::Browser, FORM, ("INPUT", "First name", "first"), (300, 180))))
        .step(form(typ(App::Browser, FORM, ("INPUT", "First name", "first"), "{first}")))
        .alt(
            "tab-to-field",
            "moves to the next field with Tab instead of clicking it",
            vec![form(click(App::Browser, FORM, ("INPUT", "Last name", "last"), (300, 230)))],
            vec![form(key(App::Browser, FORM, "tab"))],
        )
        .step(form(typ(App::Browser, FORM, ("INPUT", "Last name", "last"), "{last}")))
        .step(form(click(App::Browser, FORM, ("INPUT", "E-mail", "email"), (300, 280))))
        .step(form(typ(App::Browser, FORM, ("INPUT", "E-mail", "email"), "{email}")))
        .alt(
            "enter-save",
            "saves with Enter instead of the button",
            vec![form(click(App::Browser, FORM, ("BUTTON", "Save", "save"), (300, 340)))],
            vec![form(key(App::Browser, FORM, "enter"))],
        )
}

// Step constructors. Element triples are (role, name, id); an empty string means the part is absent.

type El = (&'static str, &'static str, &'static str);

fn base(kind: EventKind, app: App, window: &'static str) -> Step {
    Step {
        kind,
        app,
        window,
        element: None,
        pos: None,
        value: None,
        keys: None,
        attrs: Vec::new(),
    }
}

fn focus(app: App, window: &'static str) -> Step {
    base(EventKind::Focus, app, window)
}

fn pointer(kind: EventKind, app: App, window: &'static str, el: El, pos: (i32, i32)) -> Step {
    Step {
        element: Some(el),
        pos: Some(pos),
        ..base(kind, app, window)
    }
}

fn click(app: App, window: &'static str, el: El, pos: (i32, i32)) -> Step {
    pointer(EventKind::Click, app, window, el, pos)
}

fn dclick(app: App, window: &'static str, el: El, pos: (i32, i32)) -> Step {
    pointer(EventKind::DoubleClick, app, window, el, pos)
}

fn drag(app: App, window: &'static str, pos: (i32, i32)) -> Step {
    pointer(EventKind::Drag, app, window, ("terminal", "", "vt"), pos)
}

fn scroll(app: App, window: &'static str, pos: (i32, i32)) -> Step {
    Step {
        pos: Some(pos),
        ..base(EventKind::Scroll, app, window)
    }
}

fn with_value(
    kind: EventKind,
    app: App,
    window: &'static str,
    el: El,
    value: &'static str,
) -> Step {
    Step {
        element: Some(el),
        value: Some(value),
        ..base(kind, app, window)
    }
}

fn typ(app: App, window: &'static str, el: El, value: &'static str) -> Step {
    with_value(EventKind::Type, app, window, el, value)
}

fn copy(app: App, window: &'static str, el: El, value: &'static str) -> Step {
    with_value(EventKind::Copy, app, window, el, value)
}

fn paste(app: App, window: &'static str, el: El, value: &'static str) -> Step {
    with_value(EventKind::Paste, app, window, el, value)
}

fn key(app: App, window: &'static str, keys: &'static str) -> Step {
    Step {
        keys: Some(keys),
        ..base(EventKind::Shortcut, app, window)
    }
}

impl Step {
    fn attr(mut self, key: &'static str, value: &'static str) -> Step {
        if let Some(slot) = self.attrs.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.attrs.push((key, value));
        }
        self
    }

    /// Sets the window-relative x of a pointer step (spreadsheet columns sit at fixed x).
    fn at_x(mut self, x: i32) -> Step {
        if let Some(pos) = &mut self.pos {
            pos.0 = x;
        }
        self
    }
}

impl RoutineDef {
    fn new(name: &'static str, weight: f64) -> RoutineDef {
        RoutineDef {
            name,
            weight,
            slots: Vec::new(),
            parts: Vec::new(),
        }
    }

    fn slot(mut self, name: &'static str, generate: fn(&mut v::Gen<'_>) -> String) -> RoutineDef {
        self.slots.push((name, generate));
        self
    }

    fn step(mut self, step: Step) -> RoutineDef {
        self.parts.push(Part::Always(step));
        self
    }

    fn optional(mut self, name: &'static str, why: &'static str, steps: Vec<Step>) -> RoutineDef {
        self.parts.push(Part::Optional { name, why, steps });
        self
    }

    fn alt(
        mut self,
        name: &'static str,
        why: &'static str,
        dominant: Vec<Step>,
        instead: Vec<Step>,
    ) -> RoutineDef {
        self.parts.push(Part::Alt {
            name,
            why,
            dominant,
            instead,
        });
        self
    }

    fn extra(mut self, name: &'static str, why: &'static str, steps: Vec<Step>) -> RoutineDef {
        self.parts.push(Part::Extra { name, why, steps });
        self
    }
}
