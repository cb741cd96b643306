package io.machxp.pager.futex;

/** A futex as the pager names it: the memory object and the offset of its word. */
public record FutexKey(String object, long offset) {}
