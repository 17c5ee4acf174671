//! The user a password is checked for: directory attributes by LDAP name.

use super::fold::Folding;
use crate::ir::{Attribute, AttributeSet, UnknownAttribute};

/// The user's attributes, as the directory knows them. Values are not secrets, but they are
/// personal data: policyc never logs them.
///
/// ```
/// use policyc_runtime::Context;
/// use policyc_runtime::ir::Attribute;
///
/// let user = Context::new()
///     .with(Attribute::SamAccountName, "jdoe")
///     .with(Attribute::DisplayName, "Jane Doe")
///     .with(Attribute::MemberOf, "CN=Admins,CN=Users,DC=example,DC=com");
/// assert_eq!(user.get(Attribute::SamAccountName), ["jdoe"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: [Vec<String>; Attribute::ALL.len()],
    tenant: Option<String>,
}

impl Context {
    /// A user with no attributes.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets an attribute to one value, replacing earlier values.
    pub fn with(mut self, attribute: Attribute, value: impl Into<String>) -> Context {
        self.set(attribute, value);
        self
    }

    /// Sets an attribute to one value, replacing earlier values.
    pub fn set(&mut self, attribute: Attribute, value: impl Into<String>) {
        let slot = &mut self.values[attribute.index()];
        slot.clear();
        slot.push(value.into());
    }

    /// Adds a value (for multi-valued attributes such as `memberOf`).
    pub fn add(&mut self, attribute: Attribute, value: impl Into<String>) {
        self.values[attribute.index()].push(value.into());
    }

    /// Adds `other`'s values of these attributes.
    pub fn extend_from(&mut self, other: &Context, attributes: AttributeSet) {
        for a in attributes.iter() {
            self.values[a.index()].extend(other.get(a).iter().cloned());
        }
    }

    /// Adds a value by attribute name (case-insensitive LDAP name).
    ///
    /// # Errors
    /// [`UnknownAttribute`] when the name is not a supported attribute.
    pub fn add_named(
        &mut self,
        name: &str,
        value: impl Into<String>,
    ) -> Result<(), UnknownAttribute> {
        let attribute: Attribute = name.parse()?;
        self.add(attribute, value);
        Ok(())
    }

    /// Sets the tenant (organization) name, which Entra Password Protection scores like a
    /// banned term.
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Context {
        self.tenant = Some(tenant.into());
        self
    }

    /// Sets the tenant name.
    pub fn set_tenant(&mut self, tenant: impl Into<String>) {
        self.tenant = Some(tenant.into());
    }

    /// The tenant name, if known.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// Whether one of the user's values of `attribute` equals `value`, ignoring case; group
    /// DNs (`memberOf`) compare as distinguished names ([`dn::eq`](super::dn::eq)).
    pub fn has(&self, folding: Folding<'_>, attribute: Attribute, value: &str) -> bool {
        let mut values = self.get(attribute).iter();
        match attribute {
            Attribute::MemberOf => values.any(|v| super::dn::eq(folding, v, value)),
            _ => values.any(|v| folding.eq(v, value)),
        }
    }

    /// The values of an attribute (empty when unset).
    pub fn get(&self, attribute: Attribute) -> &[String] {
        &self.values[attribute.index()]
    }
}
