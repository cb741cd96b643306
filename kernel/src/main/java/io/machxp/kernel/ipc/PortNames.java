package io.machxp.kernel.ipc;

/**
 * What mach_port_names returns: a space's names in increasing order and, at the same index, each
 * name's MACH_PORT_TYPE_* bits as mach_port_type gives them (with MACH_PORT_TYPE_DNREQUEST).
 */
public record PortNames(int[] names, int[] types) {}
