//! The other golden scenarios at run time: names that could collide (served and called end
//! to end, each call must reach its own method), keyword services, the default package,
//! several services of one package in one `PluginSet`, and the options' modules.

use std::sync::Arc;

use coll::{Msg, ThingService};
use connect_plugin::codegen::PluginInfo;
use connect_plugin::plugin::PluginSetError;
use connect_plugin::transport::ListenAddr;
use connect_plugin::{
    Channel, Client, Plugin, PluginSet, Request, Response, Server, Status, Streaming,
};
use futures::StreamExt;
use golden_compile::collisions::collisions::v1 as coll;
use golden_compile::defaultpackage as root;
use golden_compile::keywords::keywords::v1 as kw;
use golden_compile::samepackage::samepackage::v1 as same;

fn reply(method: &str) -> Result<Response<Msg>, Status> {
    Ok(Response::new(Msg {
        text: method.to_owned(),
    }))
}

/// Answers every call with the name of the method that ran.
struct Things;

#[connect_plugin::async_trait]
impl ThingService for Things {
    async fn name(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
        reply("Name")
    }
    async fn get(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
        reply("Get")
    }
    async fn get_path(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
        reply("GetPath")
    }
    async fn clone(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
        reply("Clone")
    }
    async fn into(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
        reply("Into")
    }
    async fn as_ref(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
        reply("AsRef")
    }
    async fn to_owned(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
        reply("ToOwned")
    }
    async fn try_into(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
        reply("TryInto")
    }
    async fn borrow(&self, _: Request<Msg>) -> Result<Response<Streaming<Msg>>, Status> {
        Ok(Response::new(
            vec![Msg {
                text: "Borrow".into(),
            }]
            .into(),
        ))
    }
}

async fn url_of(server: &connect_plugin::transport::RunningServer) -> String {
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("not TCP")
    };
    format!("http://{addr}")
}

/// Every method whose Rust names could collide (with the service's name constant, with each
/// other's constants, with `Arc`'s own methods) is routed to itself.
#[tokio::test]
async fn colliding_names_route_to_their_own_methods() {
    let server = Server::new(coll::thing_service_router(Arc::new(Things)))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = url_of(&server).await;
    let c = coll::ThingServiceClient::new(Client::new(Channel::builder(&url).unwrap().build()));
    let m = || Request::new(Msg::default());
    let text = |r: Result<Response<Msg>, Status>| r.unwrap().into_inner().text;
    // Called through the trait by path: `c.clone()` would be `Clone::clone`.
    assert_eq!(text(ThingService::name(&c, m()).await), "Name");
    assert_eq!(text(ThingService::get(&c, m()).await), "Get");
    assert_eq!(text(ThingService::get_path(&c, m()).await), "GetPath");
    assert_eq!(text(ThingService::clone(&c, m()).await), "Clone");
    assert_eq!(text(ThingService::into(&c, m()).await), "Into");
    assert_eq!(text(ThingService::as_ref(&c, m()).await), "AsRef");
    assert_eq!(text(ThingService::to_owned(&c, m()).await), "ToOwned");
    assert_eq!(text(ThingService::try_into(&c, m()).await), "TryInto");
    let streamed: Vec<String> = ThingService::borrow(&c, m())
        .await
        .unwrap()
        .into_inner()
        .map(|r| r.unwrap().text)
        .collect()
        .await;
    assert_eq!(streamed, ["Borrow"]);

    // The renamed constants, each with its own method's path.
    assert_eq!(coll::THING_SERVICE_NAME, "collisions.v1.ThingService");
    assert_eq!(
        coll::THING_SERVICE_NAME_METHOD.path,
        "/collisions.v1.ThingService/Name"
    );
    assert_eq!(coll::THING_SERVICE_GET.path, coll::THING_SERVICE_GET_PATH);
    assert_eq!(
        coll::THING_SERVICE_GET_PATH,
        "/collisions.v1.ThingService/Get"
    );
    assert_eq!(
        coll::THING_SERVICE_GET_PATH_METHOD.path,
        "/collisions.v1.ThingService/GetPath"
    );
    assert_eq!(
        coll::THING_SERVICE_NAME_METHOD2_PATH,
        "/collisions.v1.Thing/ServiceName"
    );
}

/// `ThingService` and `Thing` are both the plugin `thing`: one set cannot hold both.
#[test]
fn services_differing_by_a_service_suffix_share_a_plugin_name() {
    assert_eq!(coll::ThingServicePlugin::INFO.name, "thing");
    assert_eq!(coll::ThingPlugin::INFO.name, "thing");
    struct T;
    #[connect_plugin::async_trait]
    impl coll::Thing for T {
        async fn service_name(&self, _: Request<Msg>) -> Result<Response<Msg>, Status> {
            reply("ServiceName")
        }
    }
    let mut set = PluginSet::new().with::<coll::ThingServicePlugin>(Arc::new(Things));
    assert_eq!(
        set.add::<coll::ThingPlugin>(Arc::new(T)).unwrap_err(),
        PluginSetError::DuplicateName("thing".into())
    );
}

#[test]
fn keyword_services_and_methods() {
    let info = |i: PluginInfo| (i.name, i.service_path, i.version);
    assert_eq!(
        info(kw::ServicePlugin::INFO),
        ("service", "/keywords.v1.Service/", "1.0.0")
    );
    assert_eq!(
        info(kw::SelfPlugin::INFO),
        ("self", "/keywords.v1.self/", "1.0.0")
    );
    assert_eq!(
        info(kw::TypePlugin::INFO),
        ("type", "/keywords.v1.type/", "1.0.0")
    );
    assert_eq!(
        info(kw::RequestPlugin::INFO),
        ("request", "/keywords.v1.Request/", "1.0.0")
    );
    assert_eq!(
        info(kw::CtxPlugin::INFO),
        ("ctx", "/keywords.v1.ctx/", "1.0.0")
    );
    // Method paths keep the proto names; the Rust names are escaped.
    assert_eq!(kw::SERVICE_TYPE.path, "/keywords.v1.Service/type");
    assert_eq!(kw::SERVICE_SELF.path, "/keywords.v1.Service/self");
    assert_eq!(kw::SERVICE_CRATE.path, "/keywords.v1.Service/crate");
    assert_eq!(kw::TYPE_TYPE.path, "/keywords.v1.type/Type");
}

/// A trivial implementation of a keyword service, served and called: the method `r#type`
/// takes the message `Result` and returns the message `Option`.
#[tokio::test]
async fn a_keyword_method_with_prelude_named_messages() {
    struct Ctx;
    #[connect_plugin::async_trait]
    impl kw::Ctx for Ctx {
        async fn ctx(&self, request: Request<kw::Result>) -> Result<Response<kw::Result>, Status> {
            let mut r = request.into_inner();
            r.r#type = format!("{}!", r.r#type);
            r.self_ = "self".into();
            Ok(Response::new(r))
        }
    }
    let server = Server::new(<kw::CtxPlugin as Plugin>::router(Arc::new(Ctx)))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = url_of(&server).await;
    let c = kw::CtxPlugin::client(Client::new(Channel::builder(&url).unwrap().build()));
    let out = c
        .ctx(
            kw::Result {
                r#type: "t".into(),
                ..Default::default()
            }
            .into(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!((out.r#type.as_str(), out.self_.as_str()), ("t!", "self"));
}

#[test]
fn default_package_services() {
    assert_eq!(
        root::RootServicePlugin::INFO,
        PluginInfo {
            name: "root",
            service_name: "RootService",
            service_path: "/RootService/",
            version: "0.0.0",
        }
    );
    assert_eq!(root::ROOT_SERVICE_PING.path, "/RootService/Ping");
    let pkg = root::defaultpackage::v1::PkgServicePlugin::INFO;
    assert_eq!(
        (pkg.name, pkg.service_path, pkg.version),
        ("pkg", "/defaultpackage.v1.PkgService/", "1.0.0")
    );
}

#[test]
fn services_of_one_package_share_a_plugin_set() {
    struct Svc;
    #[connect_plugin::async_trait]
    impl same::AlphaService for Svc {
        async fn ping(&self, r: Request<same::Nothing>) -> Result<Response<same::Nothing>, Status> {
            Ok(Response::new(r.into_inner()))
        }
        async fn lookup(
            &self,
            r: Request<same::LookupRequest>,
        ) -> Result<Response<same::Item>, Status> {
            let r = r.into_inner();
            Ok(Response::new(same::Item {
                id: r.id,
                color: r.color,
                labels: vec![],
            }))
        }
    }
    #[connect_plugin::async_trait]
    impl same::BetaService for Svc {
        async fn tag(&self, _: Request<same::Item>) -> Result<Response<same::Nothing>, Status> {
            Ok(Response::new(same::Nothing {}))
        }
        async fn watch(
            &self,
            _: Request<same::Nothing>,
        ) -> Result<Response<Streaming<same::Item>>, Status> {
            Ok(Response::new(Vec::new().into()))
        }
    }
    #[connect_plugin::async_trait]
    impl same::GammaService for Svc {
        async fn put(&self, r: Request<same::Item>) -> Result<Response<same::Item>, Status> {
            Ok(Response::new(r.into_inner()))
        }
    }
    let svc = Arc::new(Svc);
    let set = PluginSet::new()
        .with::<same::AlphaServicePlugin>(svc.clone())
        .with::<same::BetaServicePlugin>(svc.clone())
        .with::<same::GammaServicePlugin>(svc);
    assert_eq!(
        set.infos().map(|i| i.name).collect::<Vec<_>>(),
        ["alpha", "beta", "gamma"]
    );
}

/// The options' scenarios: `runtime=crate` resolves through this crate's `codegen` module,
/// `no_client` still has the router, `no_server` still has the client, `no_include` works
/// when the module includes both files, `extern_path` names the diffpackage scenario's types.
#[test]
fn option_scenarios_have_their_items() {
    use golden_compile::options_externpath::optexternpath::v1 as ext;
    use golden_compile::options_noclient::optnoclient::v1 as noclient;
    use golden_compile::options_noinclude::optnoinclude::v1 as noinclude;
    use golden_compile::options_noserver::optnoserver::v1 as noserver;
    use golden_compile::options_runtime::optruntime::v1 as rt;

    assert_eq!(
        rt::RuntimeServicePlugin::INFO.service_path,
        "/optruntime.v1.RuntimeService/"
    );
    let _router: fn(Arc<dyn noclient::NoclientService>) -> connect_plugin::Router =
        noclient::noclient_service_router;
    let _client: fn(Client) -> noserver::NoserverServiceClient =
        noserver::NoserverServiceClient::new;
    assert_eq!(noinclude::NoincludeServicePlugin::INFO.name, "noinclude");
    // The extern type is the diffpackage scenario's own.
    let key: golden_compile::diffpackage::diffpackage::common::v1::RecordKey = Default::default();
    let _request: Request<golden_compile::diffpackage::diffpackage::common::v1::RecordKey> =
        Request::new(key);
    let wrapper = ext::Wrapper::default();
    let _record: Option<golden_compile::diffpackage::diffpackage::common::v1::Record> =
        wrapper.record;
    assert_eq!(
        ext::EXTERN_SERVICE_GET.path,
        "/optexternpath.v1.ExternService/Get"
    );
}
