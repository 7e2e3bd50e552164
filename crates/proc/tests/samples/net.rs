//! `/proc/net/tcp` from node_exporter's fixtures: one LISTEN and one ESTABLISHED socket, with
//! trailing spaces on every line.

use forensic_proc::net::{InetProto, InetSocket, SocketState, parse_inet};

use crate::shared_sample;

#[test]
fn node_exporter_tcpstat_decodes_listen_and_established() {
    let table = parse_inet(InetProto::Tcp, &shared_sample("proc-net/node_exporter-tcpstat.tcp")).unwrap();
    assert!(table.is_clean(), "{:?}", table.errors);
    assert_eq!(
        table.rows,
        vec![
            // 00000000:0016 00000000:0000 0A 00000015:00000000 … 0 0 2740
            InetSocket {
                proto: InetProto::Tcp,
                local: "0.0.0.0:22".parse().unwrap(),
                remote: "0.0.0.0:0".parse().unwrap(),
                state: SocketState::Listen,
                tx_queue: 0x15,
                rx_queue: 0,
                uid: 0,
                inode: 2740,
            },
            // 0F02000A:0016 0202000A:8B6B 01 00000015:00000001 … 0 0 3652
            InetSocket {
                proto: InetProto::Tcp,
                local: "10.0.2.15:22".parse().unwrap(),
                remote: "10.0.2.2:35691".parse().unwrap(),
                state: SocketState::Established,
                tx_queue: 0x15,
                rx_queue: 1,
                uid: 0,
                inode: 3652,
            },
        ]
    );
    let names: Vec<&str> = table.rows.iter().map(InetSocket::state_name).collect();
    assert_eq!(names, ["LISTEN", "ESTABLISHED"]);
    assert_eq!(
        serde_json::to_value(&table.rows[1]).unwrap(),
        serde_json::json!({
            "proto": "tcp", "local": "10.0.2.15:22", "remote": "10.0.2.2:35691", "state": "ESTABLISHED",
            "tx_queue": 21, "rx_queue": 1, "uid": 0, "inode": 3652
        })
    );
}
