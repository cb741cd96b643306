package io.machxp.kernel.ipc;

/**
 * The payer ({@link Carried#payer}) of names made in this kernel's in-process tasks for rights
 * another kernel's link brought: that kernel, as one peer of the kernel's budget of port names
 * ({@link NameBudget}), so that tasks on other kernels - remote clients' among them, whose owner
 * the link does not carry - hold at most a peer's share of the remote pool here through
 * in-process receivers, and never the reserve (review late4 B2).
 */
record LinkedKernel(int kernel) {}
