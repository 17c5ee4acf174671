//! `policyc_ppolicy.so`: an OpenLDAP ppolicy check module. slapd's ppolicy overlay calls its
//! `check_password` with the new cleartext password, the entry and the policy's
//! `pwdCheckModuleArg`; policyc's gate judges it (verified reload, fail mode, audit before yes,
//! syslog) and a refusal's message goes back to the client (at most 255 bytes).
//!
//! The ABI is Debian 12's slapd 2.5: `int check_password(char *pPasswd, char **ppErrStr,
//! Entry *pEntry, void *pArg)` with `pArg` a `struct berval *`, the message `malloc`ed (slapd
//! `free`s it). With the feature `openldap-2-6`, 2.6's form: the message written into the
//! `struct berval` slapd passes (its buffer reused when it fits). The entry's layout is read as
//! slap.h 2.5 and 2.6 declare it ([`entry`]); slapd's private headers are not needed to build.

mod entry;
mod module;
