
*** Settings ***
Documentation     routine-3-copy-from-mail-invoice-to-tryton: drafted by taskmine from routine 3.
...               Copy from mail "Invoice" to Tryton. Drafted from routine 3 (229 instances by 10 users, 12.91 hours/month to save).
...               Run: robot --variable NAME:VALUE ... bot.robot (needs xdotool and xprop).
...               Where it differs from taskmine replay: Robot Framework's standard libraries cannot
...               look elements up in the accessibility tree, so a step with a selector clicks the
...               recorded position only where the bot file allows it (fallback: position) and fails
...               otherwise, rather than guess; typed values are not read back. Use bot.py (gi Atspi)
...               or taskmine replay for bots whose steps find their elements.
Library           Process
Library           OperatingSystem

*** Variables ***
${amount}    4413.57
${due_date}    2026-12-23
${supplier}    Umbra Lighting

*** Test Cases ***
routine-3-copy-from-mail-invoice-to-tryton
    # step 1: focus_window
    Focus Window    thunderbird    ^Inbox - Mozilla Thunderbird\$    5
    # step 2: click
    Active Window Should Match    thunderbird    ^Inbox - Mozilla Thunderbird\$    5
    Fail    step 2 clicks the element {"id":"^threadTree\$","name":"^Invoice .*\$","role":"^treeitem\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 3: wait_for_window
    Active Window Should Match    thunderbird    ^Invoice .* from .* \\- Mozilla Thunderbird\$    5
    # step 4: click
    Active Window Should Match    thunderbird    ^Invoice .* from .* \\- Mozilla Thunderbird\$    5
    Fail    step 4 clicks the element {"id":"^messagepane\$","role":"^text\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 5: copy
    Active Window Should Match    thunderbird    ^Invoice .* from .* \\- Mozilla Thunderbird\$    5
    Press Keys    ctrl+c
    # step 6: focus_window
    Focus Window    tryton    ^Supplier Invoices - Tryton\$    5
    # step 7: click
    Active Window Should Match    tryton    ^Supplier Invoices - Tryton\$    5
    Fail    step 7 clicks the element {"id":"^btn-new\$","name":"^New\$","role":"^button\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 8: wait_for_window
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    # step 9: click
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Fail    step 9 clicks the element {"id":"^field-reference\$","name":"^Reference\$","role":"^textbox\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 10: paste
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Press Keys    ctrl+v
    # step 11: click
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Fail    step 11 clicks the element {"id":"^field-party\$","name":"^Supplier\$","role":"^combobox\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 12: type
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Type Text    ${supplier}
    # step 13: click
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Fail    step 13 clicks the element {"id":"^field-amount\$","name":"^Amount\$","role":"^textbox\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 14: type
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Type Text    ${amount}
    # step 15: click
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Fail    step 15 clicks the element {"id":"^field-due_date\$","name":"^Due Date\$","role":"^textbox\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 16: type
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Type Text    ${due_date}
    # step 17: key
    Active Window Should Match    tryton    ^Supplier Invoice \\(new\\) - Tryton\$    5
    Press Keys    ctrl+s
    # postcondition 1: window
    Wait Until Keyword Succeeds    5s    0.2s    Window Should Exist    tryton    ^Supplier Invoice \\(new\\) - Tryton\$

*** Keywords ***
Active Window Is
    [Arguments]    ${app}    ${title}
    ${id}=    Run Process    xdotool    getactivewindow
    Should Be Equal As Integers    ${id.rc}    0    no window has focus
    ${class}=    Run Process    xprop    -id    ${id.stdout}    WM_CLASS
    Should Contain    ${class.stdout.lower()}    "${app.lower()}"
    ${name}=    Run Process    xdotool    getwindowname    ${id.stdout}
    Should Match Regexp    ${name.stdout}    ${title}

Active Window Should Match
    [Arguments]    ${app}    ${title}    ${timeout}
    Wait Until Keyword Succeeds    ${timeout}s    0.1s    Active Window Is    ${app}    ${title}

Find Window
    [Documentation]    The id of a visible window of ${app} (WM_CLASS) whose title matches ${title}, or empty.
    [Arguments]    ${app}    ${title}
    ${found}=    Run Process    xdotool    search    --onlyvisible    --name    ${title}
    FOR    ${id}    IN    @{found.stdout.split()}
        ${class}=    Run Process    xprop    -id    ${id}    WM_CLASS
        IF    ('"' + $app.lower() + '"') in $class.stdout.lower()    RETURN    ${id}
    END
    RETURN    ${EMPTY}

Window Should Exist
    [Arguments]    ${app}    ${title}
    ${id}=    Find Window    ${app}    ${title}
    Should Not Be Empty    ${id}    no ${app} window with a title matching ${title}

Focus Window
    [Arguments]    ${app}    ${title}    ${timeout}
    Wait Until Keyword Succeeds    ${timeout}s    0.2s    Window Should Exist    ${app}    ${title}
    ${id}=    Find Window    ${app}    ${title}
    Run Process    xdotool    windowactivate    --sync    ${id}
    Active Window Should Match    ${app}    ${title}    ${timeout}

Click In Active Window
    [Arguments]    ${x}    ${y}    ${button}    ${clicks}
    ${id}=    Run Process    xdotool    getactivewindow
    Run Process    xdotool    mousemove    --window    ${id.stdout}    ${x}    ${y}
    Run Process    xdotool    click    --repeat    ${clicks}    ${button}

Type Text
    [Arguments]    ${text}
    Run Process    xdotool    type    --delay    20    --    ${text}

Press Keys
    [Arguments]    ${keys}
    Run Process    xdotool    key    --    ${keys}

File Content Should Be
    [Arguments]    ${path}    ${expected}
    ${content}=    Get File    ${path}
    Should Be Equal    ${content.rstrip()}    ${expected}
