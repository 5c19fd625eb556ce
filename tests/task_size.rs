//! An idle tokio connection is mostly its task's future: the example echo
//! server's (the pattern the tokio driver's docs show) holds one
//! `WebSocket`, not two, and the accept future is not kept beside it. A
//! regression here is memory per idle connection (docs/limits.md).

#[allow(dead_code)]
#[path = "../examples/tokio_echo_server.rs"]
mod tokio_echo_server;

use hybi::tokio::WebSocket;
use tokio::net::{TcpListener, TcpStream};

#[tokio::test(flavor = "current_thread")]
async fn the_echo_servers_task_holds_one_websocket() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (socket, _) = listener.accept().await.unwrap();
    let task = tokio_echo_server::serve(socket);
    let size = std::mem::size_of_val(&task);
    let ws = std::mem::size_of::<WebSocket<TcpStream>>();
    println!("serve's future: {size} bytes; WebSocket<TcpStream>: {ws} bytes");
    assert!(
        size < 2 * ws,
        "serve's future is {size} bytes: it holds the {ws}-byte WebSocket more than once"
    );
    assert!(size <= 1024, "serve's future is {size} bytes");
}
