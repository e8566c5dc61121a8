// The DNS benches' site and query mix (bench/dns-load.mjs, bench/dns-flood.mjs).

export function dnsBenchSite(stateDir) {
  return `site: dns-bench
address: 127.0.0.1
dhcp:
  subnet: 127.88.0.0/24
  pool: 127.88.0.100-127.88.0.199
  router: 127.88.0.1
domains:
  primary: schertz.name
  search: [schertz.name, corp.schertz.name]
lync:
  pool: lyncpool.schertz.name
  web: lyncweb.schertz.name
  address: 127.88.0.10
ntp:
  servers: [127.88.0.1]
listen: { dhcp: 6767, dns: 5300, ntp: 12300 }
state: ${stateDir}
`;
}

// What an LPE phone asks while it boots (lpe-facts), plus one NXDOMAIN and one NODATA.
export const DNS_BENCH_QUERIES = [
  'ucupdates-r2.schertz.name A',
  'ucupdates-r2.corp.schertz.name A',
  '_sipinternaltls._tcp.schertz.name SRV',
  '_sipinternal._tcp.schertz.name SRV',
  '_sip._tls.schertz.name SRV',
  'sipinternal.schertz.name A',
  'sip.schertz.name A',
  'lyncpool.schertz.name A',
  'lyncweb.schertz.name A',
  '_ntp._udp.schertz.name SRV',
  'time.windows.com A',
  'nope.schertz.name A',
  'ucupdates-r2.schertz.name AAAA',
];
