package io.machxp.kernel.ipc;

/**
 * The payer ({@link Carried#payer}) of names made in this kernel's in-process tasks for rights
 * another kernel's link brought without a client's peer ({@link LinkPayer}: rights that kernel's
 * tasks without an owner made or copied, or any from a kernel too old to send the peer): that
 * kernel, as one peer of the kernel's budget of port names ({@link NameBudget}), so that such
 * tasks on other kernels hold at most a linked kernel's share here through in-process receivers
 * ({@link NameBudget#linkMax}; all linked kernels together half the reserve), and never the rest
 * of the reserve (review late4 B2). A client's rights count to its peer ({@link LinkedPeer}). Its share is not taken from the remote pool, so
 * clients using up that pool do not cut in-process tasks off from other kernels (review late11
 * MED-N2).
 */
record LinkedKernel(int kernel) {}
