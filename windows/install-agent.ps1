# Installs the policyc agent on this domain controller as a scheduled task that runs as SYSTEM
# from boot and is restarted if it stops (run as Administrator). See docs/windows.md.
#
#   .\install-agent.ps1 -Config .\agent.yaml
param(
    [string]$Exe = "$PSScriptRoot\policyc.exe",
    [Parameter(Mandatory = $true)][string]$Config
)
$ErrorActionPreference = 'Stop'
$prog = 'C:\Program Files\policyc'
$base = 'C:\ProgramData\policyc'
New-Item -ItemType Directory -Force $prog | Out-Null
Copy-Item $Exe "$prog\policyc.exe" -Force
Copy-Item $Config "$base\agent.yaml" -Force
icacls "$base\agent.yaml" /inheritance:r /grant:r 'SYSTEM:F' 'Administrators:F' /setowner SYSTEM | Out-Null

$action = New-ScheduledTaskAction -Execute "$prog\policyc.exe" -Argument "agent run --config `"$base\agent.yaml`""
$trigger = New-ScheduledTaskTrigger -AtStartup
$settings = New-ScheduledTaskSettingsSet -RestartCount 9999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) -StartWhenAvailable -AllowStartIfOnBatteries
Register-ScheduledTask -TaskName 'policyc agent' -Action $action -Trigger $trigger -Settings $settings `
    -User 'SYSTEM' -RunLevel Highest -Force | Out-Null
Start-ScheduledTask -TaskName 'policyc agent'
Write-Host "policyc agent started; check it with: & '$prog\policyc.exe' agent status --config '$base\agent.yaml'"
