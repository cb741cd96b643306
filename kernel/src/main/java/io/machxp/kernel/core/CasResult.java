package io.machxp.kernel.core;

/** The answer to vm_compare_and_swap: whether the word was swapped, and its value before. */
public record CasResult(boolean swapped, long oldValue) {}
