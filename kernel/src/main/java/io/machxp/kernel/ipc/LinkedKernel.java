package io.machxp.kernel.ipc;

/**
 * The payer ({@link Carried#payer}) of names made in this kernel's in-process tasks for rights
 * another kernel's link brought: that kernel, as one peer of the kernel's budget of port names
 * ({@link NameBudget}), so that tasks on other kernels - remote clients' among them, whose owner
 * the link does not carry - hold at most a linked kernel's share here through in-process
 * receivers ({@link NameBudget#linkMax}; all linked kernels together half the reserve), and never
 * the rest of the reserve (review late4 B2). Its share is not taken from the remote pool, so
 * clients using up that pool do not cut in-process tasks off from other kernels (review late11
 * MED-N2).
 */
record LinkedKernel(int kernel) {}
