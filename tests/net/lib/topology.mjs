// The one description of the test network: addresses, names, DNS records and the secrets the
// victims hold. `run` builds the namespaces from the same numbers (see the table in README.md);
// servers.mjs and the tests import it from here.
//
//   near namespace (the one `run` unshares): osprey, the test runner, the DNS server on
//     127.0.0.53, loopback victims, and the server's own addresses on osn0
//   far namespace (osprey_net_far, reached over the veth pair osn0/osf0): the private victims,
//     the "outside" server on public-looking addresses, two internal media stores

export const NEAR_VETH = { v4: '10.99.0.1', v6: 'fd99::1' };
export const FAR_VETH = { v4: '10.99.0.2', v6: 'fd99::2' };

/** Addresses osprey's own namespace owns besides loopback: refused as the server's own. */
export const OWN = { v4: '93.184.216.99', v6: '2606:4700::99' };

/** The public-looking server that exists only in the far namespace. */
export const OUTSIDE = { v4: '93.184.216.34', v6: '2606:4700::1111' };

/** Internal media stores, for the instance whose operator allows them. Not victims. */
export const STORE = { cidr: '10.20.7.7', named: '192.168.50.5', loopPort: 8081 };

export const CONTROL = {
    near: { host: '127.0.0.1', port: 7000 },
    far: { host: FAR_VETH.v4, port: 7000 },
};

export const DNS = { host: '127.0.0.53', port: 53 };

/**
 * Victims by label: where they listen and which namespace holds them. Every connection to any
 * of them, on any port they listen on, is counted; the suite ends with all counts at zero.
 */
export const VICTIMS = {
    loopback4: { ns: 'near', address: '127.0.0.1' },
    loopback6: { ns: 'near', address: '::1' },
    own4: { ns: 'near', address: OWN.v4 },
    own6: { ns: 'near', address: OWN.v6 },
    ownveth4: { ns: 'near', address: NEAR_VETH.v4 },
    metadata: { ns: 'far', address: '169.254.169.254' },
    private10: { ns: 'far', address: '10.0.0.5' },
    private192: { ns: 'far', address: '192.168.1.10' },
    cgnat: { ns: 'far', address: '100.64.0.1' },
    private172: { ns: 'far', address: '172.16.0.1' },
    ula: { ns: 'far', address: 'fd00::5' },
};

/** Ports every victim listens on: the media ports osprey allows by default. */
export const VICTIM_PORTS = [80, 443];

/** The outside server's port 8080 holds its content too, but osprey must never use the port:
 * it counts as a victim ("port8080"). */
export const PORT_VICTIM = { address: OUTSIDE.v4, port: 8080 };

/** Addresses the far namespace holds on osf0 (victims, outside, stores). */
export const FAR_ADDRESSES = [
    ...Object.values(VICTIMS).filter((v) => v.ns === 'far').map((v) => v.address),
    OUTSIDE.v4, OUTSIDE.v6, STORE.cidr, STORE.named,
];

const D = 'osprey-net.com';

/** /etc/hosts inside the test's mount namespace. Names refused by rule are here too, pointing
 * at victims, so that only the name rule stands between them and a victim. */
export const HOSTS = [
    ['127.0.0.1', 'localhost'],
    ['::1', 'localhost ip6-localhost'],
    ['169.254.169.254', 'metadata.test-victims.net'],
    ['10.0.0.5', `victim-10.${D}`],
    ['192.168.1.10', `victim-192.${D}`],
    ['100.64.0.1', `victim-cgnat.${D}`],
    ['172.16.0.1', `victim-172.${D}`],
    ['fd00::5', `victim-ula.${D}`],
    ['127.0.0.1', `victim-loop.${D}`],
    ['::1', `victim-loop6.${D}`],
    ['0.0.0.0', `victim-zero.${D}`],
    [OWN.v4, `victim-own.${D}`],
    [OWN.v6, `victim-own6.${D}`],
    [NEAR_VETH.v4, `victim-veth.${D}`],
    [OUTSIDE.v4, `outside.${D}`],
    [OUTSIDE.v6, `outside.${D}`],
    [OUTSIDE.v6, `outside6.${D}`],
    // One public and one private line for the same name.
    [OUTSIDE.v4, `hosts-mixed.${D}`],
    ['10.0.0.5', `hosts-mixed.${D}`],
    [STORE.named, `store.${D}`],
    // Single label and special-use names, each pointing at a victim.
    ['10.0.0.5', 'victim'],
    ['169.254.169.254', 'metadata.google.internal'],
    ['127.0.0.1', 'printer.local'],
    ['127.0.0.1', 'svc.localhost'],
    ['10.0.0.5', 'db.home.arpa'],
    ['10.0.0.5', 'api.test'],
];

export function hostsFile() {
    return HOSTS.map(([a, n]) => `${a} ${n}`).join('\n') + '\n';
}

/**
 * DNS answers (name → { A, AAAA } or a rebinding rule). Names not here get NXDOMAIN; every
 * query is logged, so a test can tell that a name was never looked up.
 */
export const DNS_RECORDS = {
    [`dns-outside.${D}`]: { A: [OUTSIDE.v4], AAAA: [OUTSIDE.v6] },
    [`dns-victim-10.${D}`]: { A: ['10.0.0.5'] },
    [`dns-victim-loop.${D}`]: { A: ['127.0.0.1'] },
    [`dns-victim-meta.${D}`]: { A: ['169.254.169.254'] },
    [`dns-victim-ula.${D}`]: { AAAA: ['fd00::5'] },
    [`dns-victim-loop6.${D}`]: { AAAA: ['::1'] },
    [`dns-mapped.${D}`]: { AAAA: ['::ffff:127.0.0.1'] },
    [`dns-nat64.${D}`]: { AAAA: ['64:ff9b::a00:5'] },
    [`dns-zero.${D}`]: { A: ['0.0.0.0'] },
    [`dns-own.${D}`]: { A: [OWN.v4] },
    [`mixed.${D}`]: { A: [OUTSIDE.v4, '10.0.0.5'] },
    [`mixed-rev.${D}`]: { A: ['10.0.0.5', OUTSIDE.v4] },
    [`mixed-loop.${D}`]: { A: [OUTSIDE.v4, '127.0.0.1'] },
    [`mixed6.${D}`]: { A: [OUTSIDE.v4], AAAA: ['fd00::5'] },
    [`mixed-loop6.${D}`]: { A: [OUTSIDE.v4], AAAA: ['::1'] },
    [`mixed-meta.${D}`]: { A: ['169.254.169.254'], AAAA: [OUTSIDE.v6] },
    // First A answer public, every later one loopback (TTL 0).
    [`rebind1.${D}`]: { rebind: [OUTSIDE.v4, '127.0.0.1'] },
    [`rebind2.${D}`]: { rebind: [OUTSIDE.v4, '127.0.0.1'] },
    [`rebind3.${D}`]: { rebind: [OUTSIDE.v4, '169.254.169.254'] },
    // Special-use names, if anything ever asked: answered with a victim.
    'cache.internal': { A: ['10.0.0.5'] },
    'nas.local': { A: ['10.0.0.5'] },
    'web.test': { A: ['10.0.0.5'] },
    'thing.example': { A: ['10.0.0.5'] },
    'svc.invalid': { A: ['10.0.0.5'] },
    'x.onion': { A: ['10.0.0.5'] },
    '5.0.0.10.in-addr.arpa': { A: ['10.0.0.5'] },
    'intranet': { A: ['10.0.0.5'] },
    // Look-alikes of the allowed domain, for the allowed-domains instance.
    'evil-osprey-net.com': { A: [OUTSIDE.v4] },
    'osprey-net.com.evil.org': { A: [OUTSIDE.v4] },
};

export const DOMAIN = D;

/** Every victim name, for the check that a response names none of them. */
export const VICTIM_NAMES = [
    ...HOSTS.filter(([a]) => a !== OUTSIDE.v4 && a !== OUTSIDE.v6 && a !== STORE.named)
        .map(([, n]) => n).flatMap((n) => n.split(' ')),
    ...Object.keys(DNS_RECORDS).filter((n) => !/outside|evil/.test(n)),
];
