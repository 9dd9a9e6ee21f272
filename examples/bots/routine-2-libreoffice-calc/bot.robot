
*** Settings ***
Documentation     routine-2-libreoffice-calc: drafted by taskmine from routine 2.
...               Drafted from routine 2 (179 instances by 10 users, 12.90 hours/month to save).
...               Run: robot --variable NAME:VALUE ... bot.robot (needs xdotool and xprop).
Library           Process
Library           OperatingSystem

*** Variables ***
${c147}    371593

*** Test Cases ***
routine-2-libreoffice-calc
    # step 1: focus_window
    Focus Window    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    # step 2: click
    Active Window Should Match    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    Click In Active Window    71    310    1    1
    # step 3: copy
    Active Window Should Match    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    Press Keys    ctrl+c
    # step 4: focus_window
    Focus Window    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    # step 5: click
    Active Window Should Match    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    Click In Active Window    300    210    1    1
    # step 6: paste
    Active Window Should Match    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 7: focus_window
    Focus Window    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    # step 8: click
    Active Window Should Match    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    Click In Active Window    240    310    1    1
    # step 9: copy
    Active Window Should Match    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    Press Keys    ctrl+c
    # step 10: focus_window
    Focus Window    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    # step 11: click
    Active Window Should Match    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    Click In Active Window    300    260    1    1
    # step 12: paste
    Active Window Should Match    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 13: click
    Active Window Should Match    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    Click In Active Window    300    310    1    1
    # step 14: click
    Active Window Should Match    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    Click In Active Window    300    352    1    1
    # step 15: click
    Active Window Should Match    firefox    ^New ticket \\- Helpdesk — Mozilla Firefox\$    5
    Click In Active Window    300    420    1    1
    # step 16: focus_window
    Focus Window    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    # step 17: click
    Active Window Should Match    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    Click In Active Window    401    310    1    1
    # step 18: type
    Active Window Should Match    libreoffice-calc    ^.* \\- LibreOffice Calc\$    5
    Type Text    ${c147}
    # postcondition 1: window
    Wait Until Keyword Succeeds    5s    0.2s    Window Should Exist    libreoffice-calc    ^.* \\- LibreOffice Calc\$

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
