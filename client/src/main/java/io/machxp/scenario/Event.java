package io.machxp.scenario;

/**
 * One line of a run's event log.
 *
 * @param time nanoseconds since the run began (virtual in sim mode, measured in real mode)
 * @param kernel the kernel it happened on
 * @param thread the scenario thread it concerns, or "-" for none
 * @param event what happened: a step asked or answered ("lock", "acquired", ...), or a kernel
 *     event ("run", "preempt", "boost", "deboost", "owner-died", ...)
 * @param detail the rest, for a person to read
 */
public record Event(long time, String kernel, String thread, String event, String detail) {}
