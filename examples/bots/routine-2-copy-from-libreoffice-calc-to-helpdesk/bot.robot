
*** Settings ***
Documentation     routine-2-copy-from-libreoffice-calc-to-helpdesk: drafted by taskmine from routine 2.
...               Copy from LibreOffice Calc to Helpdesk "New ticket". Drafted from routine 2 (185 instances by 10 users, 13.19 hours/month to save).
...               Run: robot --variable NAME:VALUE ... bot.robot (needs xdotool and xprop).
...               Where it differs from taskmine replay: Robot Framework's standard libraries cannot
...               look elements up in the accessibility tree, so a step with a selector clicks the
...               recorded position only where the bot file allows it (fallback: position) and fails
...               otherwise, rather than guess; typed values are not read back. Use bot.py (gi Atspi)
...               or taskmine replay for bots whose steps find their elements.
Library           Process
Library           OperatingSystem

*** Variables ***
${c147}    371593

*** Test Cases ***
routine-2-copy-from-libreoffice-calc-to-helpdesk
    # step 1: focus_window
    Focus Window    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    # step 2: click
    Active Window Should Match    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    Fail    step 2 clicks the element {"id":"^A.*\$","role":"^cell\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 3: copy
    Active Window Should Match    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    Press Keys    ctrl+c
    # step 4: focus_window
    Focus Window    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    # step 5: click
    Active Window Should Match    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    Fail    step 5 clicks the element {"id":"^customer\$","name":"^Customer\$","role":"^INPUT\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 6: paste
    Active Window Should Match    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 7: focus_window
    Focus Window    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    # step 8: click
    Active Window Should Match    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    Fail    step 8 clicks the element {"id":"^B.*\$","role":"^cell\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 9: copy
    Active Window Should Match    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    Press Keys    ctrl+c
    # step 10: focus_window
    Focus Window    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    # step 11: click
    Active Window Should Match    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    Fail    step 11 clicks the element {"id":"^subject\$","name":"^Subject\$","role":"^INPUT\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 12: paste
    Active Window Should Match    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 13: click
    Active Window Should Match    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    Fail    step 13 clicks the element {"id":"^priority\$","name":"^Priority\$","role":"^SELECT\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 14: click
    Active Window Should Match    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    Fail    step 14 clicks the element {"id":"^priority-high\$","name":"^High\$","role":"^OPTION\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 15: click
    Active Window Should Match    firefox    ^New ticket - Helpdesk — Mozilla Firefox\$    5
    Fail    step 15 clicks the element {"id":"^submit\$","name":"^Create ticket\$","role":"^BUTTON\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 16: focus_window
    Focus Window    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    # step 17: click
    Active Window Should Match    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    Fail    step 17 clicks the element {"id":"^C.*\$","role":"^cell\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 18: type
    Active Window Should Match    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$    5
    Type Text    ${c147}
    # postcondition 1: window
    Wait Until Keyword Succeeds    5s    0.2s    Window Should Exist    libreoffice-calc    ^open-requests\\.xlsx - LibreOffice Calc\$

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
