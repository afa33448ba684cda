/**
 * Which CI system runs us, and the id of the run, from the variables each provider documents.
 * The run id lets a reviewer go from a record to the CI log that produced it.
 */
export interface CiInfo {
  provider: string;
  runId: string | null;
  /** A link to the run, when the provider's variables make one. */
  url: string | null;
  job: string | null;
}

type Env = NodeJS.ProcessEnv;
const v = (env: Env, name: string): string | null => (env[name] ? String(env[name]) : null);

const PROVIDERS: { provider: string; detect: (env: Env) => boolean; info: (env: Env) => Omit<CiInfo, 'provider'> }[] = [
  {
    provider: 'github-actions',
    detect: (env) => env.GITHUB_ACTIONS === 'true',
    info: (env) => ({
      runId: v(env, 'GITHUB_RUN_ID'),
      url: env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : null,
      job: v(env, 'GITHUB_JOB'),
    }),
  },
  { provider: 'gitlab', detect: (env) => env.GITLAB_CI === 'true', info: (env) => ({ runId: v(env, 'CI_PIPELINE_ID'), url: v(env, 'CI_JOB_URL') ?? v(env, 'CI_PIPELINE_URL'), job: v(env, 'CI_JOB_ID') }) },
  { provider: 'circleci', detect: (env) => env.CIRCLECI === 'true', info: (env) => ({ runId: v(env, 'CIRCLE_WORKFLOW_ID') ?? v(env, 'CIRCLE_BUILD_NUM'), url: v(env, 'CIRCLE_BUILD_URL'), job: v(env, 'CIRCLE_JOB') }) },
  { provider: 'jenkins', detect: (env) => Boolean(env.JENKINS_URL && env.BUILD_ID), info: (env) => ({ runId: v(env, 'BUILD_ID'), url: v(env, 'BUILD_URL'), job: v(env, 'JOB_NAME') }) },
  { provider: 'buildkite', detect: (env) => env.BUILDKITE === 'true', info: (env) => ({ runId: v(env, 'BUILDKITE_BUILD_ID'), url: v(env, 'BUILDKITE_BUILD_URL'), job: v(env, 'BUILDKITE_JOB_ID') }) },
  {
    provider: 'azure-pipelines',
    detect: (env) => env.TF_BUILD === 'True' || env.TF_BUILD === 'true',
    info: (env) => ({ runId: v(env, 'BUILD_BUILDID'), url: null, job: v(env, 'SYSTEM_JOBID') }),
  },
  { provider: 'travis', detect: (env) => env.TRAVIS === 'true', info: (env) => ({ runId: v(env, 'TRAVIS_BUILD_ID'), url: v(env, 'TRAVIS_BUILD_WEB_URL'), job: v(env, 'TRAVIS_JOB_ID') }) },
  { provider: 'bitbucket', detect: (env) => Boolean(env.BITBUCKET_BUILD_NUMBER), info: (env) => ({ runId: v(env, 'BITBUCKET_BUILD_NUMBER'), url: null, job: v(env, 'BITBUCKET_STEP_UUID') }) },
  { provider: 'teamcity', detect: (env) => Boolean(env.TEAMCITY_VERSION), info: (env) => ({ runId: v(env, 'BUILD_NUMBER'), url: null, job: null }) },
  { provider: 'drone', detect: (env) => env.DRONE === 'true', info: (env) => ({ runId: v(env, 'DRONE_BUILD_NUMBER'), url: v(env, 'DRONE_BUILD_LINK'), job: null }) },
];

export function detectCi(env: Env): CiInfo | null {
  for (const p of PROVIDERS) if (p.detect(env)) return { provider: p.provider, ...p.info(env) };
  // The generic convention many other systems follow.
  if (env.CI === 'true' || env.CI === '1') return { provider: 'unknown', runId: null, url: null, job: null };
  return null;
}
