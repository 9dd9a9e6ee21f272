
*** Settings ***
Documentation     routine-3-thunderbird: drafted by taskmine from routine 3.
...               Drafted from routine 3 (228 instances by 10 users, 12.86 hours/month to save).
...               Run: robot --variable NAME:VALUE ... bot.robot (needs xdotool and xprop).
Library           Process
Library           OperatingSystem

*** Variables ***
${amount}    4413.57
${due_date}    2026-12-23
${supplier}    Umbra Lighting

*** Test Cases ***
routine-3-thunderbird
    # step 1: focus_window
    Focus Window    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    # step 2: click
    Active Window Should Match    thunderbird    ^.* \\- Mozilla Thunderbird\$    5
    Click In Active Window    430    188    1    2
    # step 3: wait_for_window
    Active Window Should Match    thunderbird    ^Invoice .* from .* \\- Mozilla Thunderbird\$    5
    # step 4: click
    Active Window Should Match    thunderbird    ^Invoice .* from .* \\- Mozilla Thunderbird\$    5
    Click In Active Window    512    402    1    2
    # step 5: copy
    Active Window Should Match    thunderbird    ^Invoice .* from .* \\- Mozilla Thunderbird\$    5
    Press Keys    ctrl+c
    # step 6: focus_window
    Focus Window    tryton    ^.* \\- Tryton\$    5
    # step 7: click
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Click In Active Window    34    62    1    1
    # step 8: click
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Click In Active Window    260    148    1    1
    # step 9: paste
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Press Keys    ctrl+v
    # step 10: click
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Click In Active Window    261    182    1    1
    # step 11: type
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Type Text    ${supplier}
    # step 12: click
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Click In Active Window    260    216    1    1
    # step 13: type
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Type Text    ${amount}
    # step 14: click
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Click In Active Window    620    216    1    1
    # step 15: type
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Type Text    ${due_date}
    # step 16: key
    Active Window Should Match    tryton    ^.* \\- Tryton\$    5
    Press Keys    ctrl+s
    # postcondition 1: window
    Wait Until Keyword Succeeds    5s    0.2s    Window Should Exist    tryton    ^.* \\- Tryton\$

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
