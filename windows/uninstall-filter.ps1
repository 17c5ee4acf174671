# Removes policyc's LSA password filter from Notification Packages (run as Administrator). The
# DLL stays loaded until the reboot; delete C:\Windows\System32\policyc_filter.dll after it.
# Settings, policy, queue and audit log under C:\ProgramData\policyc are kept.
$ErrorActionPreference = 'Stop'
$lsa = 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa'
$packages = @((Get-ItemProperty $lsa).'Notification Packages') | Where-Object { $_ -ne 'policyc_filter' }
Set-ItemProperty $lsa 'Notification Packages' -Type MultiString -Value $packages
Write-Host "policyc filter unregistered; reboot, then delete $env:SystemRoot\System32\policyc_filter.dll."
