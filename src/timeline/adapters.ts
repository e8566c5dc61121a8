// Wiring from the daemons' own event shapes to the timeline's inputs, so
// the appliance (src/appliance/) only passes these objects to the daemons it starts.
import type { DhcpEvents, ExchangeInfo } from '../dhcp/daemon.js';
import type { DnsQueryReport } from '../dns/daemon.js';
import type { Decision } from '../dhcp/rfc2131.js';
import type { NtpClientEvent } from '../ntp/daemon.js';
import type { StagingTimeline } from './timeline.js';
import type { DhcpExchangeEvent } from './types.js';

/** DHCP daemon decision + exchange info -> the timeline's DHCP event. */
export function dhcpExchangeEvent(d: Decision, info: ExchangeInfo, now: () => number = Date.now): DhcpExchangeEvent {
  // The address this exchange tells of: offered/leased (yiaddr), or the INFORM's own (ciaddr).
  const ip = info.type === 'INFORM' || info.type === 'RELEASE' ? info.ciaddr : info.yiaddr;
  const e: DhcpExchangeEvent = { mac: d.mac, type: info.type, prl: info.prl, optionsSent: info.optionsSent ?? [], at: info.at ?? now() };
  if (ip !== undefined && ip !== '0.0.0.0') e.ip = ip;
  if (info.replyType !== undefined) e.replyType = info.replyType;
  if (d.vendorClass !== undefined) e.vendorClass = d.vendorClass;
  if (d.note !== undefined) e.note = d.note;
  if (d.commit?.hostname !== undefined) e.hostname = d.commit.hostname;
  return e;
}

/** `events` for DhcpDaemon.start. */
export function timelineDhcpEvents(timeline: StagingTimeline): Required<Pick<DhcpEvents, 'onExchange'>> {
  return { onExchange: (d, info) => timeline.onDhcpExchange(dhcpExchangeEvent(d, info)) };
}

/** `events` for DnsDaemon.start. */
export function timelineDnsEvents(timeline: StagingTimeline): { onQuery: (e: DnsQueryReport) => void } {
  return { onQuery: (e) => timeline.onDnsQuery(e) };
}

/** `events` for NtpDaemon.start. */
export function timelineNtpEvents(timeline: StagingTimeline): { onClient: (e: NtpClientEvent) => void } {
  return {
    onClient: (e) => timeline.onNtpClient({ address: e.address, version: e.version, clientOffsetMs: e.clientOffsetMs, kind: e.kind }),
  };
}
