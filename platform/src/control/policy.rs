//! What an admitted plugin may provide and call, by self id. By default a plugin may
//! provide what it declared and call what it declared it requires; rules narrow that per
//! self id pattern.

use crate::identity::SelfIdPattern;

/// A set of service types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Types {
    /// Any type.
    Any,
    /// Only these.
    Only(Vec<String>),
}

impl Types {
    /// Whether `service_type` is in the set.
    pub fn contains(&self, service_type: &str) -> bool {
        match self {
            Types::Any => true,
            Types::Only(types) => types.iter().any(|t| t == service_type),
        }
    }
}

/// The types plugins matching a pattern may provide and require.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Which plugins the rule is for.
    pub plugins: SelfIdPattern,
    /// What they may provide.
    pub provides: Types,
    /// What they may require (and so call).
    pub requires: Types,
}

/// The host's policy: the first rule whose pattern matches a plugin's self id applies; a
/// plugin no rule matches may provide and require whatever it declares.
///
/// ```
/// use connect_plugin_platform::control::{Policy, Rule, Types};
/// use connect_plugin_platform::identity::SelfIdPattern;
///
/// let policy = Policy::default().rule(Rule {
///     plugins: SelfIdPattern::parse("logger-*").unwrap(),
///     provides: Types::Only(vec!["logger".into()]),
///     requires: Types::Only(vec![]),
/// });
/// assert!(policy.may_provide("logger-eu", "logger"));
/// assert!(!policy.may_provide("logger-eu", "cache"));
/// assert!(policy.may_provide("cache", "cache"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    rules: Vec<Rule>,
}

impl Policy {
    /// Adds a rule (after those already there).
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    fn rule_for(&self, self_id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.plugins.matches(self_id))
    }

    /// Whether `self_id` may provide `service_type`.
    pub fn may_provide(&self, self_id: &str, service_type: &str) -> bool {
        self.rule_for(self_id)
            .is_none_or(|r| r.provides.contains(service_type))
    }

    /// Whether `self_id` may require (call) `service_type`.
    pub fn may_require(&self, self_id: &str, service_type: &str) -> bool {
        self.rule_for(self_id)
            .is_none_or(|r| r.requires.contains(service_type))
    }
}
