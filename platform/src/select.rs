//! Choosing one provider of a service for a call: health first (never an unhealthy
//! provider; a degraded one only when no healthy one is left), then a strategy — first,
//! round-robin, random, weighted, least in-flight — or your own [`Select`].

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How well a provider can take calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Health {
    /// Fully functional.
    #[default]
    Healthy,
    /// Working with limitations: chosen only when no healthy provider is left.
    Degraded,
    /// Cannot serve: never chosen.
    Unhealthy,
}

/// One provider a selection may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The provider's runtime id.
    pub provider_id: &'a str,
    /// Its share of the traffic under [`Strategy::Weighted`] (0: only when every weight is 0).
    pub weight: u32,
    /// Calls the router has in flight to it now.
    pub in_flight: usize,
    /// Its health.
    pub health: Health,
}

/// A selection strategy: picks one of candidates that are all equally healthy.
///
/// ```
/// use connect_plugin_platform::select::{Candidate, Select, choose};
///
/// /// Always the provider with the lexically smallest id.
/// #[derive(Debug)]
/// struct Smallest;
///
/// impl Select for Smallest {
///     fn select(&self, candidates: &[Candidate<'_>]) -> usize {
///         (0..candidates.len()).min_by_key(|&i| candidates[i].provider_id).unwrap_or(0)
///     }
/// }
///
/// let c = |id| Candidate { provider_id: id, weight: 1, in_flight: 0, health: Default::default() };
/// assert_eq!(choose(&Smallest, &[c("b"), c("a")]), Some(1));
/// ```
pub trait Select: Send + Sync + fmt::Debug {
    /// The index of the chosen candidate; `candidates` is never empty. An index out of
    /// range counts as the first.
    fn select(&self, candidates: &[Candidate<'_>]) -> usize;
}

/// The built-in strategies.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The first registered provider.
    First,
    /// Each in turn.
    #[default]
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// At random, in proportion to the providers' weights.
    Weighted,
    /// The one with the fewest calls in flight (ties at random).
    LeastInFlight,
}

/// The built-in strategies, with the state round-robin keeps.
#[derive(Debug, Default)]
pub struct Builtin {
    strategy: Strategy,
    next: AtomicUsize,
}

impl Builtin {
    /// A selector using `strategy`.
    pub fn new(strategy: Strategy) -> Self {
        Builtin {
            strategy,
            next: AtomicUsize::new(0),
        }
    }
}

impl Select for Builtin {
    fn select(&self, candidates: &[Candidate<'_>]) -> usize {
        let n = candidates.len();
        match self.strategy {
            Strategy::First => 0,
            Strategy::RoundRobin => self.next.fetch_add(1, Ordering::Relaxed) % n,
            Strategy::Random => fastrand::usize(..n),
            Strategy::Weighted => {
                let total: u64 = candidates.iter().map(|c| u64::from(c.weight)).sum();
                if total == 0 {
                    return fastrand::usize(..n);
                }
                let mut point = fastrand::u64(..total);
                for (i, c) in candidates.iter().enumerate() {
                    let w = u64::from(c.weight);
                    if point < w {
                        return i;
                    }
                    point -= w;
                }
                n - 1
            }
            Strategy::LeastInFlight => {
                let least = candidates.iter().map(|c| c.in_flight).min().unwrap_or(0);
                let tied: Vec<usize> = (0..n)
                    .filter(|&i| candidates[i].in_flight == least)
                    .collect();
                tied[fastrand::usize(..tied.len())]
            }
        }
    }
}

/// Chooses a provider: among the healthy ones if any, else among the degraded ones, never
/// an unhealthy one. Returns an index into `candidates`, `None` when none can serve.
pub fn choose(select: &dyn Select, candidates: &[Candidate<'_>]) -> Option<usize> {
    for wanted in [Health::Healthy, Health::Degraded] {
        let pool: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].health == wanted)
            .collect();
        if pool.is_empty() {
            continue;
        }
        let view: Vec<Candidate<'_>> = pool.iter().map(|&i| candidates[i]).collect();
        let picked = select.select(&view);
        return Some(pool[if picked < pool.len() { picked } else { 0 }]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, health: Health) -> Candidate<'_> {
        Candidate {
            provider_id: id,
            weight: 1,
            in_flight: 0,
            health,
        }
    }

    #[test]
    fn unhealthy_never_degraded_last() {
        let s = Builtin::new(Strategy::RoundRobin);
        let all = [
            c("a", Health::Unhealthy),
            c("b", Health::Degraded),
            c("c", Health::Healthy),
        ];
        for _ in 0..10 {
            assert_eq!(choose(&s, &all), Some(2));
        }
        let no_healthy = [c("a", Health::Unhealthy), c("b", Health::Degraded)];
        assert_eq!(choose(&s, &no_healthy), Some(1));
        assert_eq!(choose(&s, &[c("a", Health::Unhealthy)]), None);
        assert_eq!(choose(&s, &[]), None);
    }

    #[test]
    fn round_robin_takes_each_in_turn() {
        let s = Builtin::new(Strategy::RoundRobin);
        let all = [
            c("a", Health::Healthy),
            c("x", Health::Unhealthy),
            c("b", Health::Healthy),
        ];
        let picks: Vec<usize> = (0..4).map(|_| choose(&s, &all).unwrap()).collect();
        assert_eq!(picks, [0, 2, 0, 2]);
    }

    #[test]
    fn first_and_random() {
        let all = [c("a", Health::Healthy), c("b", Health::Healthy)];
        assert_eq!(choose(&Builtin::new(Strategy::First), &all), Some(0));
        let s = Builtin::new(Strategy::Random);
        let mut seen = [0; 2];
        for _ in 0..200 {
            seen[choose(&s, &all).unwrap()] += 1;
        }
        assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");
    }

    #[test]
    fn weighted_follows_the_weights() {
        let s = Builtin::new(Strategy::Weighted);
        let mut all = [
            c("a", Health::Healthy),
            c("b", Health::Healthy),
            c("z", Health::Healthy),
        ];
        all[0].weight = 1;
        all[1].weight = 3;
        all[2].weight = 0;
        let mut seen = [0u32; 3];
        for _ in 0..4000 {
            seen[choose(&s, &all).unwrap()] += 1;
        }
        assert_eq!(
            seen[2], 0,
            "weight 0 is never chosen while others have weight"
        );
        // b should get about three times a's share; allow a wide margin.
        let ratio = f64::from(seen[1]) / f64::from(seen[0]);
        assert!((2.0..4.5).contains(&ratio), "{seen:?}");
        for c in &mut all {
            c.weight = 0;
        }
        let mut seen = [0u32; 3];
        for _ in 0..300 {
            seen[choose(&s, &all).unwrap()] += 1;
        }
        assert!(
            seen.iter().all(|&n| n > 0),
            "all-zero weights share: {seen:?}"
        );
    }

    #[test]
    fn least_in_flight_picks_the_idlest() {
        let s = Builtin::new(Strategy::LeastInFlight);
        let mut all = [
            c("a", Health::Healthy),
            c("b", Health::Healthy),
            c("c", Health::Healthy),
        ];
        all[0].in_flight = 5;
        all[1].in_flight = 1;
        all[2].in_flight = 3;
        for _ in 0..20 {
            assert_eq!(choose(&s, &all), Some(1));
        }
        all[2].in_flight = 1;
        let mut seen = [0; 3];
        for _ in 0..200 {
            seen[choose(&s, &all).unwrap()] += 1;
        }
        assert_eq!(seen[0], 0);
        assert!(seen[1] > 0 && seen[2] > 0, "ties share: {seen:?}");
    }

    #[test]
    fn a_custom_selector_out_of_range_counts_as_the_first() {
        #[derive(Debug)]
        struct Wild;
        impl Select for Wild {
            fn select(&self, _: &[Candidate<'_>]) -> usize {
                99
            }
        }
        let all = [c("a", Health::Unhealthy), c("b", Health::Healthy)];
        assert_eq!(choose(&Wild, &all), Some(1));
    }
}
