//! The dependency graph of a set of plugins: who provides which service types and who
//! requires them. Pure: the start order (deterministic, in waves that can start in
//! parallel), the errors that make a set unstartable (a cycle, named in order; a required
//! type nobody provides, named with who needs it), and the impact of removing a plugin.

use std::collections::{BTreeMap, BTreeSet};

/// A plugin as the graph sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its name (unique in the graph).
    pub name: String,
    /// The service types it provides.
    pub provides: Vec<String>,
    /// The service types it needs: `true` when it cannot start without them.
    pub requires: Vec<(String, bool)>,
}

impl Node {
    /// A plugin named `name` with nothing declared yet.
    ///
    /// ```
    /// use connect_plugin_platform::graph::Node;
    ///
    /// let storage = Node::new("storage").provides("storage").requires("logger");
    /// assert_eq!(storage.requires, [("logger".to_owned(), true)]);
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Node {
            name: name.into(),
            provides: Vec::new(),
            requires: Vec::new(),
        }
    }

    /// Declares a type it provides.
    pub fn provides(mut self, service_type: impl Into<String>) -> Self {
        self.provides.push(service_type.into());
        self
    }

    /// Declares a type it cannot start without.
    pub fn requires(mut self, service_type: impl Into<String>) -> Self {
        self.requires.push((service_type.into(), true));
        self
    }

    /// Declares a type it uses when there is one (degraded without it).
    pub fn optionally(mut self, service_type: impl Into<String>) -> Self {
        self.requires.push((service_type.into(), false));
        self
    }
}

/// Why a set of plugins cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Two plugins share a name.
    #[error("two plugins are named {0:?}")]
    DuplicateName(String),
    /// A plugin requires a type nobody provides.
    #[error("plugin {plugin:?} requires {service_type:?}, which no plugin provides")]
    Missing {
        /// The plugin.
        plugin: String,
        /// The type.
        service_type: String,
    },
    /// Required dependencies run in a circle: each plugin requires a type of the next,
    /// the last one of the first.
    #[error("the plugins {} require each other in a circle", .0.join(" → "))]
    Cycle(Vec<String>),
}

/// The start order: waves of plugins, each wave needing only those of earlier waves (a
/// wave's plugins can start in parallel); names sorted within a wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartOrder {
    /// The waves, first to start first.
    pub waves: Vec<Vec<String>>,
}

impl StartOrder {
    /// Every plugin, in an order that starts each after what it requires.
    pub fn flat(&self) -> Vec<&str> {
        self.waves.iter().flatten().map(String::as_str).collect()
    }
}

/// What removing a plugin would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impact {
    /// Service types the removed plugin provides that are left with no provider.
    pub orphaned_types: Vec<String>,
    /// Plugins that could no longer run: they require an orphaned type, or a type only
    /// such plugins provide (transitively).
    pub broken: Vec<String>,
    /// Plugins that only lose an optional dependency (they run degraded).
    pub degraded: Vec<String>,
}

impl Impact {
    /// Whether removing the plugin leaves every other one able to run.
    pub fn is_safe(&self) -> bool {
        self.broken.is_empty()
    }
}

/// A set of plugins and their dependencies.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: BTreeMap<String, Node>,
}

impl Graph {
    /// The graph of `nodes`.
    pub fn new(nodes: impl IntoIterator<Item = Node>) -> Result<Self, GraphError> {
        let mut graph = Graph::default();
        for n in nodes {
            graph.add(n)?;
        }
        Ok(graph)
    }

    /// Adds a plugin (checked when the graph is ordered).
    pub fn add(&mut self, node: Node) -> Result<(), GraphError> {
        if self.nodes.contains_key(&node.name) {
            return Err(GraphError::DuplicateName(node.name));
        }
        self.nodes.insert(node.name.clone(), node);
        Ok(())
    }

    /// Removes a plugin; `None` if there was none of that name.
    pub fn remove(&mut self, name: &str) -> Option<Node> {
        self.nodes.remove(name)
    }

    /// The plugins providing `service_type`, sorted.
    fn providers(&self, service_type: &str) -> Vec<&str> {
        self.nodes
            .values()
            .filter(|n| n.provides.iter().any(|t| t == service_type))
            .map(|n| n.name.as_str())
            .collect()
    }

    /// For each plugin, the plugins it must start after (providers of its required types,
    /// itself excluded); errors for a required type nobody provides.
    fn needs(&self) -> Result<BTreeMap<&str, BTreeSet<&str>>, GraphError> {
        let mut needs = BTreeMap::new();
        for n in self.nodes.values() {
            let mut mine = BTreeSet::new();
            for (t, required) in &n.requires {
                let providers = self.providers(t);
                if *required && providers.iter().all(|p| *p == n.name) {
                    return Err(GraphError::Missing {
                        plugin: n.name.clone(),
                        service_type: t.clone(),
                    });
                }
                if *required {
                    mine.extend(providers.into_iter().filter(|p| *p != n.name));
                }
            }
            needs.insert(n.name.as_str(), mine);
        }
        Ok(needs)
    }

    /// The start order, or why there is none.
    ///
    /// ```
    /// use connect_plugin_platform::graph::{Graph, Node};
    ///
    /// let graph = Graph::new([
    ///     Node::new("shortener").provides("shortener").requires("storage").optionally("cache"),
    ///     Node::new("storage").provides("storage").requires("logger"),
    ///     Node::new("logger").provides("logger"),
    ///     Node::new("cache").provides("cache"),
    /// ]).unwrap();
    /// let order = graph.start_order().unwrap();
    /// assert_eq!(order.waves, [vec!["cache", "logger"], vec!["storage"], vec!["shortener"]]);
    /// ```
    pub fn start_order(&self) -> Result<StartOrder, GraphError> {
        let needs = self.needs()?;
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut waves = Vec::new();
        while done.len() < needs.len() {
            let wave: Vec<&str> = needs
                .iter()
                .filter(|(name, mine)| !done.contains(*name) && mine.is_subset(&done))
                .map(|(name, _)| *name)
                .collect();
            if wave.is_empty() {
                let left: BTreeMap<&str, &BTreeSet<&str>> = needs
                    .iter()
                    .filter(|(name, _)| !done.contains(*name))
                    .map(|(n, m)| (*n, m))
                    .collect();
                return Err(GraphError::Cycle(cycle(&left)));
            }
            done.extend(wave.iter().copied());
            waves.push(wave.into_iter().map(str::to_owned).collect());
        }
        Ok(StartOrder { waves })
    }

    /// What removing `name` would do (the graph is left as it is).
    ///
    /// ```
    /// use connect_plugin_platform::graph::{Graph, Node};
    ///
    /// let graph = Graph::new([
    ///     Node::new("shortener").provides("shortener").requires("storage").optionally("cache"),
    ///     Node::new("storage").provides("storage"),
    ///     Node::new("cache").provides("cache"),
    /// ]).unwrap();
    /// let impact = graph.impact("storage");
    /// assert_eq!(impact.orphaned_types, ["storage"]);
    /// assert_eq!(impact.broken, ["shortener"]);
    /// assert!(graph.impact("cache").is_safe());
    /// assert_eq!(graph.impact("cache").degraded, ["shortener"]);
    /// ```
    pub fn impact(&self, name: &str) -> Impact {
        let mut gone: BTreeSet<&str> = BTreeSet::from([name]);
        // Plugins whose required types have no provider left, until nothing changes.
        loop {
            let newly: Vec<&str> = self
                .nodes
                .values()
                .filter(|n| !gone.contains(n.name.as_str()))
                .filter(|n| {
                    n.requires.iter().any(|(t, required)| {
                        *required
                            && !self
                                .providers(t)
                                .iter()
                                .any(|p| !gone.contains(p) && *p != n.name)
                    })
                })
                .map(|n| n.name.as_str())
                .collect();
            if newly.is_empty() {
                break;
            }
            gone.extend(newly);
        }
        let left = |t: &str| self.providers(t).iter().any(|p| !gone.contains(p));
        let mut orphaned: BTreeSet<String> = BTreeSet::new();
        for n in self
            .nodes
            .values()
            .filter(|n| gone.contains(n.name.as_str()))
        {
            for t in &n.provides {
                if !left(t) && self.providers(t).contains(&name) {
                    orphaned.insert(t.clone());
                }
            }
        }
        let degraded: Vec<String> = self
            .nodes
            .values()
            .filter(|n| !gone.contains(n.name.as_str()))
            .filter(|n| {
                n.requires
                    .iter()
                    .any(|(t, required)| !*required && !left(t) && !self.providers(t).is_empty())
            })
            .map(|n| n.name.clone())
            .collect();
        Impact {
            orphaned_types: orphaned.into_iter().collect(),
            broken: gone
                .into_iter()
                .filter(|n| *n != name)
                .map(str::to_owned)
                .collect(),
            degraded,
        }
    }
}

/// A cycle among `left` (every node of which needs another of them): walking from the
/// smallest name along each node's smallest unfinished need until a node repeats.
fn cycle(left: &BTreeMap<&str, &BTreeSet<&str>>) -> Vec<String> {
    let Some(start) = left.keys().next().copied() else {
        return Vec::new();
    };
    let mut path: Vec<&str> = vec![start];
    loop {
        let Some(current) = path.last().copied() else {
            return Vec::new();
        };
        let next = left
            .get(current)
            .and_then(|needs| needs.iter().find(|n| left.contains_key(*n)).copied());
        let Some(next) = next else {
            return path.into_iter().map(str::to_owned).collect();
        };
        if let Some(at) = path.iter().position(|p| *p == next) {
            return path[at..].iter().map(|s| (*s).to_owned()).collect();
        }
        path.push(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shortener_set() -> Vec<Node> {
        vec![
            Node::new("shortener")
                .provides("shortener")
                .requires("storage")
                .optionally("cache"),
            Node::new("storage").provides("storage").requires("logger"),
            Node::new("logger").provides("logger"),
            Node::new("cache").provides("cache"),
        ]
    }

    #[test]
    fn the_order_is_deterministic_and_in_waves() {
        let a = Graph::new(shortener_set()).unwrap().start_order().unwrap();
        let mut reversed = shortener_set();
        reversed.reverse();
        let b = Graph::new(reversed).unwrap().start_order().unwrap();
        assert_eq!(a, b, "the order does not depend on the input's order");
        assert_eq!(a.flat(), ["cache", "logger", "storage", "shortener"]);
        // Optional dependencies do not order: shortener could start without cache.
        assert_eq!(a.waves[0], ["cache", "logger"]);
    }

    #[test]
    fn a_chain_of_twenty_and_a_wide_graph() {
        let chain: Vec<Node> = (0..20)
            .map(|i| {
                let n = Node::new(format!("p{i:02}")).provides(format!("t{i}"));
                if i > 0 {
                    n.requires(format!("t{}", i - 1))
                } else {
                    n
                }
            })
            .collect();
        let order = Graph::new(chain).unwrap().start_order().unwrap();
        assert_eq!(order.waves.len(), 20);
        let wide: Vec<Node> = std::iter::once(Node::new("base").provides("base"))
            .chain((0..19).map(|i| Node::new(format!("w{i:02}")).requires("base")))
            .collect();
        let order = Graph::new(wide).unwrap().start_order().unwrap();
        assert_eq!(order.waves.len(), 2);
        assert_eq!(order.waves[1].len(), 19);
    }

    #[test]
    fn a_cycle_is_named_in_order() {
        let g = Graph::new([
            Node::new("a").provides("ta").requires("tb"),
            Node::new("b").provides("tb").requires("tc"),
            Node::new("c").provides("tc").requires("ta"),
            Node::new("d").provides("td"),
        ])
        .unwrap();
        let err = g.start_order().unwrap_err();
        assert_eq!(
            err,
            GraphError::Cycle(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            err.to_string(),
            "the plugins a → b → c require each other in a circle"
        );
        // A plugin depending on the cycle is not part of it.
        let g = Graph::new([
            Node::new("a").provides("ta").requires("tb"),
            Node::new("b").provides("tb").requires("ta"),
            Node::new("0-outside").requires("ta"),
        ])
        .unwrap();
        assert_eq!(
            g.start_order().unwrap_err(),
            GraphError::Cycle(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn a_missing_provider_names_both() {
        let g = Graph::new([Node::new("storage").provides("storage").requires("logger")]).unwrap();
        assert_eq!(
            g.start_order().unwrap_err().to_string(),
            "plugin \"storage\" requires \"logger\", which no plugin provides"
        );
        // Providing it to itself does not count.
        let g = Graph::new([Node::new("x").provides("t").requires("t")]).unwrap();
        assert!(matches!(g.start_order(), Err(GraphError::Missing { .. })));
        // A missing optional dependency is fine.
        let g = Graph::new([Node::new("x").optionally("cache")]).unwrap();
        assert_eq!(g.start_order().unwrap().flat(), ["x"]);
        assert_eq!(
            Graph::new([Node::new("x"), Node::new("x")]).unwrap_err(),
            GraphError::DuplicateName("x".into())
        );
    }

    #[test]
    fn impact_of_removal_is_transitive_and_separates_optional_ones() {
        let g = Graph::new(shortener_set()).unwrap();
        let logger = g.impact("logger");
        assert_eq!(logger.orphaned_types, ["logger"]);
        assert_eq!(logger.broken, ["shortener", "storage"], "transitively");
        assert!(!logger.is_safe());
        let cache = g.impact("cache");
        assert!(cache.is_safe());
        assert_eq!(cache.orphaned_types, ["cache"]);
        assert_eq!(cache.degraded, ["shortener"]);
        // With a second provider, nothing is orphaned.
        let mut two = shortener_set();
        two.push(
            Node::new("storage-2")
                .provides("storage")
                .requires("logger"),
        );
        let g = Graph::new(two).unwrap();
        let storage = g.impact("storage");
        assert!(storage.is_safe());
        assert!(storage.orphaned_types.is_empty());
        assert_eq!(g.impact("nobody"), Impact::default());
    }
}
