# Installs policyc's LSA password filter on this domain controller (run as Administrator, on
# every writable DC). LSASS loads filters at boot: reboot afterwards. See docs/windows.md.
#
#   .\install-filter.ps1 -Policy .\office365.policyc [-PublicKey .\signing.key.pub]
#                        [-UpnSuffix contoso.com] [-FailOpen]
param(
    [string]$Dll = "$PSScriptRoot\policyc_filter.dll",
    [Parameter(Mandatory = $true)][string]$Policy,
    [string]$PublicKey,
    [string]$UpnSuffix,
    [switch]$FailOpen
)
$ErrorActionPreference = 'Stop'
$base = 'C:\ProgramData\policyc'
$lsa = 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa'

# LSA protection loads only Microsoft-signed plug-ins: an unsigned filter would not load.
$ppl = (Get-ItemProperty $lsa -ErrorAction SilentlyContinue).RunAsPPL
if ($ppl -in 1, 2) {
    throw "LSA protection (RunAsPPL=$ppl) is on: LSASS loads only Microsoft-signed filters, and policyc_filter.dll is not. Nothing was installed."
}

# A directory only SYSTEM and Administrators may use (the queue key lives below it).
New-Item -ItemType Directory -Force $base | Out-Null
icacls $base /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F' /setowner SYSTEM /T | Out-Null
Copy-Item $Policy "$base\policy.policyc" -Force
$sig = "$Policy.sig"
if (Test-Path $sig) { Copy-Item $sig "$base\policy.policyc.sig" -Force }

New-Item -Force 'HKLM:\SOFTWARE\policyc' | Out-Null
$settings = 'HKLM:\SOFTWARE\policyc'
Set-ItemProperty $settings PolicyPath "$base\policy.policyc"
Set-ItemProperty $settings QueuePath "$base\queue"
Set-ItemProperty $settings AuditLog "$base\audit.jsonl"
Set-ItemProperty $settings FailOpen ([int][bool]$FailOpen) -Type DWord
if ($PublicKey) {
    Copy-Item $PublicKey "$base\policy.pub" -Force
    Set-ItemProperty $settings PublicKey "$base\policy.pub"
}
if ($UpnSuffix) { Set-ItemProperty $settings UpnSuffix $UpnSuffix }

if (-not [System.Diagnostics.EventLog]::SourceExists('policyc')) {
    New-EventLog -LogName Application -Source policyc
}

Copy-Item $Dll "$env:SystemRoot\System32\policyc_filter.dll" -Force
$packages = @((Get-ItemProperty $lsa).'Notification Packages')
if ($packages -notcontains 'policyc_filter') {
    Set-ItemProperty $lsa 'Notification Packages' -Type MultiString -Value ($packages + 'policyc_filter')
}
Write-Host "policyc filter installed; reboot to load it. Then check the Application log (source policyc) for 'policy loaded'."
