package io.machxp.scenario;

/**
 * A linux-mode run ({@link ScenarioRun#linuxJudged}) and the judgement of whether it kept the
 * schedule of its file ({@link LinuxDisturbance}): a disturbed run's result is not compared.
 */
public record LinuxRun(ScenarioResult result, LinuxDisturbance.Verdict disturbance) {}
