package io.machxp.pager.core;

/**
 * Breaches of the XP protocol itself that end a kernel's stream and are no task errno (so not in
 * {@link io.machxp.proto.task.Errno}): the name is the ErrorInfo reason of the status the stream
 * ends with, beside a gRPC code by gRPC's documented meaning (see KernelHello in xp.proto).
 */
public enum XpProtocolError {
    /** A message out of order (before kernel_hello, or a second kernel_hello): FAILED_PRECONDITION. */
    EPROTO,
    /** kernel_hello asks for an XP protocol version this pager does not speak: UNIMPLEMENTED. */
    EPROTONOSUPPORT,
    /** A message with no routine set, or one this pager does not know: INVALID_ARGUMENT. */
    EBADMSG
}
