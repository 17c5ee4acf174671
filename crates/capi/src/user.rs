//! The user whose password is checked: attributes for the policy's name and group rules.
#![allow(unsafe_code, reason = "the boundary with C: exported, unmangled functions")]

use crate::error::{not_live, policyc_error, policyc_status, reported};
use crate::guard::guard;
use crate::handle::{self, Handle, Kind, Live};
use crate::text::{refused_free, utf8};
use policyc_runtime::Context;
use policyc_runtime::ir::Attribute;
use std::ffi::c_char;
use std::sync::Mutex;

/// A user attribute a policy can name.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum policyc_attribute {
    /// `sAMAccountName` (or a Unix login name, an LDAP `uid`).
    POLICYC_ATTRIBUTE_ACCOUNT_NAME = 0,
    /// `userPrincipalName`.
    POLICYC_ATTRIBUTE_USER_PRINCIPAL_NAME = 1,
    /// `displayName` (a full name, `cn`, a GECOS name).
    POLICYC_ATTRIBUTE_DISPLAY_NAME = 2,
    /// `givenName`.
    POLICYC_ATTRIBUTE_GIVEN_NAME = 3,
    /// `sn`.
    POLICYC_ATTRIBUTE_SURNAME = 4,
    /// `mail`.
    POLICYC_ATTRIBUTE_MAIL = 5,
    /// `memberOf`: a group's DN (add one value per group).
    POLICYC_ATTRIBUTE_MEMBER_OF = 6,
}

impl From<policyc_attribute> for Attribute {
    fn from(a: policyc_attribute) -> Attribute {
        match a {
            policyc_attribute::POLICYC_ATTRIBUTE_ACCOUNT_NAME => Attribute::SamAccountName,
            policyc_attribute::POLICYC_ATTRIBUTE_USER_PRINCIPAL_NAME => {
                Attribute::UserPrincipalName
            }
            policyc_attribute::POLICYC_ATTRIBUTE_DISPLAY_NAME => Attribute::DisplayName,
            policyc_attribute::POLICYC_ATTRIBUTE_GIVEN_NAME => Attribute::GivenName,
            policyc_attribute::POLICYC_ATTRIBUTE_SURNAME => Attribute::Surname,
            policyc_attribute::POLICYC_ATTRIBUTE_MAIL => Attribute::Mail,
            policyc_attribute::POLICYC_ATTRIBUTE_MEMBER_OF => Attribute::MemberOf,
        }
    }
}

/// A user's attributes. Free with `policyc_user_free`.
#[derive(Debug, Default)]
pub struct policyc_user {
    context: Mutex<Context>,
}

impl Handle for policyc_user {
    const KIND: Kind = Kind::User;
}

impl policyc_user {
    /// The attributes, as the validator takes them.
    fn attributes(&self) -> Context {
        self.context.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// A user with no attributes.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_user_new() -> *mut policyc_user {
    guard(std::ptr::null_mut, || handle::give(policyc_user::default()))
}

/// Adds a value (`len` bytes of UTF-8) to one of the user's attributes (`attribute`: a
/// `policyc_attribute`; any other number is refused). On failure, the code, and `*error` set
/// if `error` is not NULL (free it with `policyc_error_free`).
#[unsafe(no_mangle)]
pub extern "C" fn policyc_user_add(
    user: *mut policyc_user,
    attribute: u32,
    value: *const c_char,
    len: usize,
    error: *mut *mut policyc_error,
) -> policyc_status {
    let added = reported(error, || {
        // Released before an error is handed out (that takes the write lock).
        let live = Live::read();
        let user = live.get(user).ok_or_else(|| not_live("user", "policyc_user"))?;
        let Some(&attribute) = ATTRIBUTES.get(attribute as usize) else {
            return Err(policyc_error::new(
                policyc_status::POLICYC_ERROR_ARGUMENT,
                format!(
                    "attribute {attribute} is not a policyc_attribute (0 to {})",
                    ATTRIBUTES.len() - 1
                ),
            ));
        };
        let value = utf8(value, len, "attribute value")?;
        let mut ctx = user.context.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        ctx.add(attribute.into(), value);
        Ok(())
    });
    added.map_or_else(|code| code, |()| policyc_status::POLICYC_OK)
}

/// The attributes by their C value.
const ATTRIBUTES: [policyc_attribute; 7] = [
    policyc_attribute::POLICYC_ATTRIBUTE_ACCOUNT_NAME,
    policyc_attribute::POLICYC_ATTRIBUTE_USER_PRINCIPAL_NAME,
    policyc_attribute::POLICYC_ATTRIBUTE_DISPLAY_NAME,
    policyc_attribute::POLICYC_ATTRIBUTE_GIVEN_NAME,
    policyc_attribute::POLICYC_ATTRIBUTE_SURNAME,
    policyc_attribute::POLICYC_ATTRIBUTE_MAIL,
    policyc_attribute::POLICYC_ATTRIBUTE_MEMBER_OF,
];

/// Frees a user. NULL is ignored; a pointer that is not a live user is refused.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_user_free(user: *mut policyc_user) {
    guard(|| (), || refused_free(user.is_null() || handle::free(user), "policyc_user_free"));
}

/// The user's attributes, or none.
pub(crate) fn context(live: &Live, user: *const policyc_user) -> Result<Context, policyc_error> {
    if user.is_null() {
        return Ok(Context::new());
    }
    live.get(user).map(policyc_user::attributes).ok_or_else(|| not_live("user", "policyc_user"))
}
