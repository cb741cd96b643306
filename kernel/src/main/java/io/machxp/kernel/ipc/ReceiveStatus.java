package io.machxp.kernel.ipc;

/**
 * mach_port_get_receive_status ({@code mach_port_status_t}): the port set the port is in (a name,
 * or MACH_PORT_NULL), its sequence number, make-send count, queue limit, queued messages,
 * send-once and send rights in existence, and whether port-destroyed and no-senders requests
 * are registered.
 */
public record ReceiveStatus(int pset, int seqno, int mscount, int qlimit, int msgcount, int sorights,
        boolean srights, boolean pdrequest, boolean nsrequest) {}
