//! EchoService generated through build.rs (prost-build + the ServiceGenerator).

/// `echo.v1` messages and service code.
#[allow(missing_docs, clippy::all)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/echo.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/echo.v1.serde.rs"));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use connect_plugin::rpc::{Request, Response};
    use connect_plugin::{Channel, Client, Plugin, Server, Status, Streaming};
    use futures::StreamExt;

    use super::pb::{self, EchoRequest, EchoResponse, EchoService};

    struct Upper;

    #[connect_plugin::async_trait]
    impl EchoService for Upper {
        async fn echo(&self, r: Request<EchoRequest>) -> Result<Response<EchoResponse>, Status> {
            Ok(Response::new(EchoResponse {
                message: r.into_inner().message.to_uppercase(),
                ..Default::default()
            }))
        }
        async fn echo_server_stream(
            &self,
            r: Request<EchoRequest>,
        ) -> Result<Response<Streaming<EchoResponse>>, Status> {
            let r = r.into_inner();
            let out = (0..r.count).map(|index| EchoResponse {
                message: r.message.clone(),
                index,
                ..Default::default()
            });
            Ok(Response::new(out.collect()))
        }
        async fn echo_client_stream(
            &self,
            r: Request<Streaming<EchoRequest>>,
        ) -> Result<Response<EchoResponse>, Status> {
            let all: Vec<String> = r
                .into_inner()
                .map(|m| m.map(|m| m.message))
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, _>>()?;
            Ok(Response::new(EchoResponse {
                message: all.join("+"),
                ..Default::default()
            }))
        }
        async fn echo_bidi(
            &self,
            r: Request<Streaming<EchoRequest>>,
        ) -> Result<Response<Streaming<EchoResponse>>, Status> {
            let out = r.into_inner().map(|m| {
                m.map(|m| EchoResponse {
                    message: m.message,
                    ..Default::default()
                })
            });
            Ok(Response::new(Streaming::from_stream(out)))
        }
    }

    #[tokio::test]
    async fn generated_through_build_rs_serves_and_calls_all_four_kinds() {
        assert_eq!(
            pb::ECHO_SERVICE_ECHO.idempotency,
            connect_plugin::rpc::Idempotency::NoSideEffects
        );
        assert_eq!(<pb::EchoServicePlugin as Plugin>::INFO.name, "echo");
        let server = Server::new(pb::echo_service_router(Arc::new(Upper)))
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let url = format!("http://{}", server.local_addr());
        let echo: Arc<dyn EchoService> = <pb::EchoServicePlugin as Plugin>::client(Client::new(
            Channel::builder(&url).unwrap().build(),
        ));
        let one = EchoRequest {
            message: "hi".into(),
            count: 3,
            ..Default::default()
        };
        assert_eq!(
            echo.echo(one.clone().into())
                .await
                .unwrap()
                .into_inner()
                .message,
            "HI"
        );
        let many: Vec<_> = echo
            .echo_server_stream(one.clone().into())
            .await
            .unwrap()
            .into_inner()
            .map(|m| m.unwrap().index)
            .collect()
            .await;
        assert_eq!(many, [0, 1, 2]);
        let joined = echo
            .echo_client_stream(Request::new(vec![one.clone(), one.clone()].into()))
            .await
            .unwrap();
        assert_eq!(joined.into_inner().message, "hi+hi");
        let back: Vec<_> = echo
            .echo_bidi(Request::new(vec![one.clone()].into()))
            .await
            .unwrap()
            .into_inner()
            .map(|m| m.unwrap().message)
            .collect()
            .await;
        assert_eq!(back, ["hi"]);
    }

    /// The package's `register_json_types()` (here from `finalize_package`) registers the
    /// methods' messages, so they travel inside an `Any` in the proto3 JSON form.
    #[test]
    fn the_package_registers_its_messages_for_json_in_any() {
        pb::register_json_types();
        let any = connect_plugin::Any::from_msg(&EchoResponse {
            message: "hi".into(),
            ..Default::default()
        });
        let json = connect_plugin::Codec::Json.encode_to_bytes(&any).unwrap();
        assert_eq!(
            json,
            r#"{"@type":"type.googleapis.com/echo.v1.EchoResponse","message":"hi"}"#
        );
    }
}
