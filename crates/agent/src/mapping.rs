//! Who is synced, and as which cloud user: the on-premises account's cloud identity (its
//! userPrincipalName as is, with its UPN suffix rewritten, or another attribute such as `mail`),
//! and include / exclude groups, as PCNS has them. An account that maps to no cloud user is
//! accepted by the hook when compliant and recorded `not_synced`, never queued to die later.

use policyc_runtime::Context;
use policyc_runtime::ir::{Attribute, AttributeSet};
use policyc_runtime::runtime::dn;
use policyc_runtime::runtime::fold::Folding;
use serde::Deserialize;

/// The `users:` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserMapping {
    /// The attribute whose value is the cloud user's id (default `userPrincipalName`).
    #[serde(default = "default_cloud_id", deserialize_with = "attribute_by_name")]
    pub cloud_id: Attribute,
    /// Rewrites the value's UPN suffix (`@corp.local` → `@contoso.com`).
    #[serde(default)]
    pub upn_suffix: Option<SuffixRewrite>,
    /// Only members (directly or nested) of one of these groups are synced; empty: everyone.
    #[serde(default)]
    pub include_groups: Vec<String>,
    /// Members of these groups are never synced.
    #[serde(default)]
    pub exclude_groups: Vec<String>,
}

fn default_cloud_id() -> Attribute {
    Attribute::UserPrincipalName
}

fn attribute_by_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Attribute, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map_err(serde::de::Error::custom)
}

impl Default for UserMapping {
    fn default() -> UserMapping {
        UserMapping {
            cloud_id: default_cloud_id(),
            upn_suffix: None,
            include_groups: Vec::new(),
            exclude_groups: Vec::new(),
        }
    }
}

/// A UPN suffix rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuffixRewrite {
    /// The on-premises suffix (`corp.local`).
    pub from: String,
    /// The cloud suffix (`contoso.com`).
    pub to: String,
}

/// Why an account is not synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSynced(pub String);

impl UserMapping {
    /// The attributes the mapping reads.
    pub fn attributes(&self) -> AttributeSet {
        let mut set = AttributeSet::default();
        set.insert(self.cloud_id);
        if !self.include_groups.is_empty() || !self.exclude_groups.is_empty() {
            set.insert(Attribute::MemberOf);
        }
        set
    }

    /// The cloud user `user` maps to, or why none.
    pub fn cloud_user(&self, user: &Context) -> Result<String, NotSynced> {
        if let Some(g) = member(user, &self.exclude_groups) {
            return Err(NotSynced(format!("member of the excluded group `{g}`")));
        }
        if !self.include_groups.is_empty() && member(user, &self.include_groups).is_none() {
            return Err(NotSynced("not a member of any included group".into()));
        }
        let Some(value) = user.get(self.cloud_id).first().filter(|v| !v.is_empty()) else {
            return Err(NotSynced(format!("the account has no {}", self.cloud_id)));
        };
        Ok(match &self.upn_suffix {
            Some(r) => match value.rsplit_once('@') {
                Some((name, suffix)) if suffix.eq_ignore_ascii_case(&r.from) => {
                    format!("{name}@{}", r.to)
                }
                _ => value.clone(),
            },
            None => value.clone(),
        })
    }
}

impl UserMapping {
    /// The other synced accounts that map to `cloud_user` as `account` does (compared
    /// case-insensitively, as Entra compares user principal names); `None` when the directory
    /// cannot search. Two accounts on one cloud user would overwrite each other's password.
    pub fn others_on(
        &self,
        directory: &mut dyn super::directory::Directory,
        account: &str,
        cloud_user: &str,
    ) -> Result<Option<Vec<String>>, super::directory::DirectoryError> {
        let mut values = vec![cloud_user.to_string()];
        if let (Some(r), Some((name, suffix))) = (&self.upn_suffix, cloud_user.rsplit_once('@'))
            && suffix.eq_ignore_ascii_case(&r.to)
        {
            values.push(format!("{name}@{}", r.from));
        }
        let Some(found) = directory.accounts_with(self.cloud_id, &values)? else {
            return Ok(None);
        };
        let mut others = Vec::new();
        for other in found.into_iter().filter(|a| !a.eq_ignore_ascii_case(account)) {
            let Some(ctx) = directory.lookup(&other, self.attributes())? else { continue };
            if self.cloud_user(&ctx).is_ok_and(|u| u.eq_ignore_ascii_case(cloud_user)) {
                others.push(other);
            }
        }
        others.sort_by_key(|a| a.to_lowercase());
        Ok(Some(others))
    }
}

/// What a collision is, for the log, the audit line and the agent's `failed/`.
pub fn collision_detail(account: &str, others: &[String], cloud_user: &str) -> String {
    let others: Vec<String> = others.iter().map(|o| format!("`{o}`")).collect();
    format!(
        "`{account}` and {} map to the same cloud user `{cloud_user}`: each would overwrite the other's password, so neither is sent; give each account its own cloud user (users: cloud_id, upn_suffix) or exclude one (users: exclude_groups)",
        others.join(", ")
    )
}

/// The first of `groups` the user is a member of (`memberOf` holds nested groups too).
fn member<'g>(user: &Context, groups: &'g [String]) -> Option<&'g String> {
    let folding = Folding::new(&[]);
    groups.iter().find(|g| user.get(Attribute::MemberOf).iter().any(|m| dn::eq(folding, m, g)))
}
