use std::collections::BTreeMap;
use std::time::Duration;

use super::*;

fn reg(service_type: &str, version: &str) -> NewRegistration {
    NewRegistration {
        service_type: service_type.to_owned(),
        version: version.to_owned(),
        service_name: "logger.v1.LoggerService".to_owned(),
        metadata: BTreeMap::new(),
        weight: 1,
        methods: Vec::new(),
    }
}

async fn next(w: &mut Watcher) -> Vec<WatchEvent> {
    tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .expect("an event within 5 s")
        .expect("the registry is alive")
}

#[test]
fn only_the_owner_unregisters() {
    let r = Registry::default();
    let id = r
        .register("a-1", Health::Healthy, reg("logger", "1.0.0"))
        .unwrap();
    assert_eq!(
        r.unregister("b-2", &id),
        Err(RegistryError::NotOwner(id.clone()))
    );
    assert_eq!(r.providers("logger", &VersionFilter::ANY).len(), 1);
    assert_eq!(
        r.unregister("a-1", "nope").unwrap_err().code(),
        connect_plugin::Code::NotFound
    );
    r.unregister("a-1", &id).unwrap();
    assert!(r.providers("logger", &VersionFilter::ANY).is_empty());
    assert_eq!(r.unregister("a-1", &id), Err(RegistryError::NotFound(id)));
}

#[test]
fn several_providers_and_versions_as_semver() {
    let r = Registry::default();
    r.register("a-1", Health::Healthy, reg("logger", "9.0.0"))
        .unwrap();
    r.register("b-2", Health::Healthy, reg("logger", "10.0.0"))
        .unwrap();
    let ten = r.providers("logger", &VersionFilter::parse("10.0.0").unwrap());
    assert_eq!(ten.len(), 1);
    assert_eq!(ten[0].provider_id, "b-2");
    assert_eq!(r.providers("logger", &VersionFilter::ANY).len(), 2);
    assert!(matches!(
        r.register("c-3", Health::Healthy, reg("logger", "1.0")),
        Err(RegistryError::InvalidVersion(_))
    ));
}

#[test]
fn a_plugin_providing_two_types_is_found_under_each() {
    // The seed's GetProviderByRuntimeID ignored the service type.
    let r = Registry::default();
    r.register("multi-1", Health::Healthy, reg("logger", "1.0.0"))
        .unwrap();
    let mut cache = reg("cache", "2.0.0");
    cache.service_name = "cache.v1.CacheService".into();
    r.register("multi-1", Health::Healthy, cache).unwrap();
    assert_eq!(
        r.provider("cache", "multi-1").unwrap().service_name,
        "cache.v1.CacheService"
    );
    assert_eq!(
        r.provider("logger", "multi-1").unwrap().service_name,
        "logger.v1.LoggerService"
    );
    assert!(r.provider("kv", "multi-1").is_none());
    assert_eq!(r.remove_provider("multi-1"), 2);
    assert!(r.provider("cache", "multi-1").is_none());
    assert_eq!(r.remove_provider("multi-1"), 0);
}

#[test]
fn limits_hold() {
    let r = Registry::new(RegistryLimits {
        max_registrations: 3,
        max_per_provider: 2,
        max_types: 2,
    });
    r.register("a", Health::Healthy, reg("t1", "1.0.0"))
        .unwrap();
    r.register("a", Health::Healthy, reg("t1", "1.0.0"))
        .unwrap();
    let e = r
        .register("a", Health::Healthy, reg("t1", "1.0.0"))
        .unwrap_err();
    assert_eq!(e.code(), connect_plugin::Code::ResourceExhausted);
    r.register("b", Health::Healthy, reg("t2", "1.0.0"))
        .unwrap();
    assert!(matches!(
        r.register("c", Health::Healthy, reg("t2", "1.0.0")),
        Err(RegistryError::Full {
            what: "registrations",
            ..
        })
    ));
    // Types: two in use; a third is refused until one is free.
    r.remove_provider("b");
    assert!(r.register("c", Health::Healthy, reg("t3", "1.0.0")).is_ok());
    assert!(matches!(
        r.watch("t4", VersionFilter::ANY),
        Err(RegistryError::Full {
            what: "service types",
            ..
        })
    ));
    // A watch on an unused type, once dropped, frees its room.
    r.remove_provider("c");
    let w = r.watch("t5", VersionFilter::ANY).unwrap();
    drop(w);
    r.register("d", Health::Healthy, reg("t6", "1.0.0"))
        .unwrap();
}

#[test]
fn bad_names_are_refused() {
    let r = Registry::default();
    for (t, name) in [
        ("", "a.B"),
        ("Logger", "a.B"),
        ("x\0", "a.B"),
        ("ok", "a..B"),
    ] {
        let mut n = reg(t, "1.0.0");
        n.service_name = name.into();
        let e = r.register("p", Health::Healthy, n).unwrap_err();
        assert_eq!(
            e.code(),
            connect_plugin::Code::InvalidArgument,
            "{t:?} {name:?}"
        );
    }
    assert!(r.watch("a/b", VersionFilter::ANY).is_err());
}

#[tokio::test]
async fn watchers_see_existing_then_additions_removals_and_health() {
    // The seed's watchers got no events for health changes or removals.
    let r = Registry::default();
    let first = r
        .register("a-1", Health::Healthy, reg("logger", "1.0.0"))
        .unwrap();
    let mut w = r.watch("logger", VersionFilter::ANY).unwrap();
    let existing = next(&mut w).await;
    assert!(matches!(&existing[..], [WatchEvent::Existing(p)] if p.registration_id == first));

    r.register("b-2", Health::Healthy, reg("logger", "1.1.0"))
        .unwrap();
    assert!(matches!(&next(&mut w).await[..], [WatchEvent::Added(p)] if p.provider_id == "b-2"));

    r.set_health("a-1", Health::Unhealthy);
    assert!(matches!(
        &next(&mut w).await[..],
        [WatchEvent::Updated(p)] if p.provider_id == "a-1" && p.health == Health::Unhealthy
    ));
    // The same health again is no event; the next change is.
    r.set_health("a-1", Health::Unhealthy);
    r.unregister("a-1", &first).unwrap();
    assert!(matches!(&next(&mut w).await[..], [WatchEvent::Removed(p)] if p.provider_id == "a-1"));

    r.remove_provider("b-2");
    assert!(matches!(&next(&mut w).await[..], [WatchEvent::Removed(p)] if p.provider_id == "b-2"));
}

#[tokio::test]
async fn a_slow_watcher_gets_the_changes_coalesced() {
    let r = Registry::default();
    let mut w = r.watch("logger", VersionFilter::ANY).unwrap();
    assert!(next(&mut w).await.is_empty());
    // A thousand changes while the watcher is away: it holds one view, not a queue.
    let mut ids = Vec::new();
    for i in 0..1000 {
        ids.push(
            r.register(&format!("p-{i}"), Health::Healthy, reg("logger", "1.0.0"))
                .unwrap(),
        );
    }
    for id in &ids[..999] {
        let owner = r
            .providers("logger", &VersionFilter::ANY)
            .into_iter()
            .find(|p| &p.registration_id == id)
            .unwrap()
            .provider_id
            .clone();
        r.unregister(&owner, id).unwrap();
    }
    let events = next(&mut w).await;
    assert!(
        matches!(&events[..], [WatchEvent::Added(p)] if p.registration_id == ids[999]),
        "{events:?}"
    );
}

#[tokio::test]
async fn watchers_see_only_versions_they_accept() {
    let r = Registry::default();
    let mut w = r
        .watch("logger", VersionFilter::parse("2.0.0").unwrap())
        .unwrap();
    assert!(next(&mut w).await.is_empty());
    r.register("old", Health::Healthy, reg("logger", "1.9.0"))
        .unwrap();
    r.register("new", Health::Healthy, reg("logger", "2.1.0"))
        .unwrap();
    let events = next(&mut w).await;
    assert!(
        events.iter().all(|e| e.provider().provider_id == "new"),
        "{events:?}"
    );
    assert!(!events.is_empty());
}

#[test]
fn concurrent_use_stays_consistent() {
    // The seed's registry raced without locks.
    let r = std::sync::Arc::new(Registry::default());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let r = r.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let me = format!("p-{t}");
                    let id = r
                        .register(&me, Health::Healthy, reg("logger", "1.0.0"))
                        .unwrap();
                    r.set_health(
                        &me,
                        if i % 2 == 0 {
                            Health::Degraded
                        } else {
                            Health::Healthy
                        },
                    );
                    r.unregister(&me, &id).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(r.providers("logger", &VersionFilter::ANY).is_empty());
    let state = r.lock();
    assert!(state.registrations.is_empty());
    assert!(state.providers.is_empty());
    assert!(state.types.is_empty());
}

#[tokio::test]
async fn a_registration_is_visible_only_in_the_health_given() {
    let r = Registry::default();
    let mut w = r.watch("logger", VersionFilter::ANY).unwrap();
    assert!(next(&mut w).await.is_empty());
    r.register("p", Health::Unhealthy, reg("logger", "1.0.0"))
        .unwrap();
    let events = next(&mut w).await;
    assert!(
        matches!(&events[..], [WatchEvent::Added(p)] if p.health == Health::Unhealthy),
        "{events:?}"
    );
    // A second registration with another health moves the first along.
    let mut cache = reg("cache", "1.0.0");
    cache.service_name = "cache.v1.Cache".into();
    r.register("p", Health::Healthy, cache).unwrap();
    assert!(matches!(
        &next(&mut w).await[..],
        [WatchEvent::Updated(p)] if p.health == Health::Healthy
    ));
}
