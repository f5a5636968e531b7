// Prints pieces of topology.mjs for `run`:
//   hosts            the /etc/hosts of the test's mount namespace
//   far-addresses    one "address/prefix" a line, for osf0 in the far namespace
//   near-addresses   the same for osn0 in the near namespace
//   final-counts     victim totals from both control servers: "<connections> <requests>"

import http from 'node:http';

import { CONTROL, FAR_ADDRESSES, FAR_VETH, NEAR_VETH, OWN, hostsFile } from './topology.mjs';

const prefix = (a) => (a.includes(':') ? `${a}/128` : `${a}/32`);

function state(role) {
    return new Promise((resolve, reject) => {
        http.get({ ...CONTROL[role], path: '/state', agent: false }, (res) => {
            let text = '';
            res.on('data', (c) => { text += c; });
            res.on('end', () => resolve(JSON.parse(text)));
        }).on('error', reject);
    });
}

switch (process.argv[2]) {
case 'hosts':
    process.stdout.write(hostsFile());
    break;
case 'far-addresses':
    console.log([`${FAR_VETH.v4}/24`, `${FAR_VETH.v6}/64`, ...FAR_ADDRESSES.map(prefix)]
        .join('\n'));
    break;
case 'near-addresses':
    console.log([`${NEAR_VETH.v4}/24`, `${NEAR_VETH.v6}/64`, prefix(OWN.v4), prefix(OWN.v6)]
        .join('\n'));
    break;
case 'final-counts': {
    let connections = 0;
    let requests = 0;
    const lines = [];
    for (const role of ['near', 'far']) {
        for (const [label, v] of Object.entries((await state(role)).victims)) {
            connections += v.connections;
            requests += v.requests;
            if (v.connections || v.requests) {
                lines.push(`victim ${label}: ${v.connections} connections, ` +
                    `${v.requests} requests: ${JSON.stringify(v.seen)}`);
            }
        }
    }
    console.log(`${connections} ${requests}`);
    for (const l of lines) {
        console.error(l);
    }
    break;
}
default:
    console.error('usage: shell-topology.mjs hosts|far-addresses|near-addresses|final-counts');
    process.exit(2);
}
