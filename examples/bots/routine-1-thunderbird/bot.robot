
*** Settings ***
Documentation     routine-1-thunderbird: drafted by taskmine from routine 1.
...               Drafted from routine 1 (166 instances by 10 users, 16.51 hours/month to save).
...               Run: robot --variable NAME:VALUE ... bot.robot (needs xdotool and xprop).
Library           Process
Library           OperatingSystem

*** Variables ***
${start_date}    2026-12-05

*** Test Cases ***
routine-1-thunderbird
    # step 1: focus_window
    Focus Window    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    # step 2: click
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Click In Active Window    429    188    1    2
    # step 3: click
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Click In Active Window    321    380    1    2
    # step 4: copy
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Press Keys    ctrl+c
    # step 5: focus_window
    Focus Window    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    # step 6: click
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Click In Active Window    320    220    1    1
    # step 7: paste
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 8: focus_window
    Focus Window    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    # step 9: click
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Click In Active Window    380    380    1    2
    # step 10: copy
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Press Keys    ctrl+c
    # step 11: focus_window
    Focus Window    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    # step 12: click
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Click In Active Window    320    262    1    1
    # step 13: paste
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 14: focus_window
    Focus Window    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    # step 15: click
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Click In Active Window    361    420    1    2
    # step 16: copy
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Press Keys    ctrl+c
    # step 17: focus_window
    Focus Window    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    # step 18: click
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Click In Active Window    320    304    1    1
    # step 19: paste
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Press Keys    ctrl+v
    # step 20: click
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Click In Active Window    320    346    1    1
    # step 21: type
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Type Text    ${start_date}
    # step 22: click
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Click In Active Window    320    388    1    1
    # step 23: click
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Click In Active Window    321    430    1    1
    # step 24: click
    Active Window Should Match    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$    5
    Click In Active Window    320    500    1    1
    # postcondition 1: window
    Wait Until Keyword Succeeds    5s    0.2s    Window Should Exist    firefox    ^New employee \\- HR Portal — Mozilla Firefox\$

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
