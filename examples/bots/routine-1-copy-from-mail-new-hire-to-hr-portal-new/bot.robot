
*** Settings ***
Documentation     routine-1-copy-from-mail-new-hire-to-hr-portal-new: drafted by taskmine from routine 1.
...               Copy from mail "New hire" to HR Portal "New employee", Save. Drafted from routine 1 (175 instances by 10 users, 17.17 hours/month to save).
...               Run: robot --variable NAME:VALUE ... bot.robot (needs xdotool and xprop).
...               Where it differs from taskmine replay: Robot Framework's standard libraries cannot
...               look elements up in the accessibility tree, so a step with a selector clicks the
...               recorded position only where the bot file allows it (fallback: position) and fails
...               otherwise, rather than guess; typed values are not read back. Use bot.py (gi Atspi)
...               or taskmine replay for bots whose steps find their elements.
Library           Process
Library           OperatingSystem

*** Variables ***
${start_date}    2026-12-05

*** Test Cases ***
routine-1-copy-from-mail-new-hire-to-hr-portal-new
    # step 1: focus_window
    Focus Window    thunderbird    ^Inbox - Mozilla Thunderbird\$    5
    # step 2: click
    Active Window Should Match    thunderbird    ^Inbox - Mozilla Thunderbird\$    5
    Fail    step 2 clicks the element {"id":"^threadTree\$","name":"^New hire: .*\$","role":"^treeitem\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 3: wait_for_window
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    # step 4: click
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Fail    step 4 clicks the element {"id":"^messagepane\$","role":"^text\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 5: copy
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Press Keys    ctrl+c
    # step 6: focus_window
    Focus Window    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    # step 7: click
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Fail    step 7 clicks the element {"id":"^first_name\$","name":"^First name\$","role":"^INPUT\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 8: paste
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 9: focus_window
    Focus Window    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    # step 10: click
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Fail    step 10 clicks the element {"id":"^messagepane\$","role":"^text\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 11: copy
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Press Keys    ctrl+c
    # step 12: focus_window
    Focus Window    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    # step 13: click
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Fail    step 13 clicks the element {"id":"^last_name\$","name":"^Last name\$","role":"^INPUT\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 14: paste
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 15: focus_window
    Focus Window    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    # step 16: click
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Fail    step 16 clicks the element {"id":"^messagepane\$","name":"^.*\@example\\\\.com\$","role":"^text\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 17: copy
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Press Keys    ctrl+c
    # step 18: focus_window
    Focus Window    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    # step 19: click
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Fail    step 19 clicks the element {"id":"^email\$","name":"^E-mail\$","role":"^INPUT\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 20: paste
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 21: click
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Fail    step 21 clicks the element {"id":"^start_date\$","name":"^Start date\$","role":"^INPUT\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 22: type
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Type Text    ${start_date}
    # step 23: click
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Fail    step 23 clicks the element {"id":"^department\$","name":"^Department\$","role":"^SELECT\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 24: click
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Fail    step 24 clicks the element {"id":"^department-option\$","role":"^OPTION\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # step 25: click
    Active Window Should Match    firefox    ^New employee - HR Portal — Mozilla Firefox\$    5
    Fail    step 25 clicks the element {"id":"^save\$","name":"^Save\$","role":"^BUTTON\$"}, which Robot Framework cannot look up: run bot.py or taskmine replay
    # postcondition 1: window
    Wait Until Keyword Succeeds    5s    0.2s    Window Should Exist    firefox    ^New employee - HR Portal — Mozilla Firefox\$

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
