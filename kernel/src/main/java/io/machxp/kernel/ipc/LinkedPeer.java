package io.machxp.kernel.ipc;

import io.machxp.proto.transport.ClientPeer;

/**
 * The payer ({@link Carried#payer}) of names made in this kernel's in-process tasks for a
 * client's right that another kernel's link brought ({@link LinkPayer}): the client's peer, as
 * the kernel it connected to saw it. A {@link NameOwner} of that peer, so its names count in the
 * clients' pool and in that peer's share of it together with the names of the peer's own
 * connections here: a client holds at most its peer's share here, whichever kernels its rights
 * come through (review late11 LOW-N6: counted to the kernel that brought them,
 * {@link LinkedKernel}, a client of k kernels held k linked kernels' shares here beside its own,
 * and used up its kernel's share of the link pool for every other task of that kernel).
 */
record LinkedPeer(ClientPeer peer) implements NameOwner {}
