/**
 * Environment variables a developer's shell exports: tokens for npm, GitHub, AWS and AI APIs.
 * Each value is its own canary (none repeats a file's), so a leak tells env from file apart.
 */
import type { DecoyBuilder } from './builder.js';
import { anthropicApiKey, awsAccessKeyId, awsSecretAccessKey, githubToken, npmToken, openaiProjectKey } from './formats.js';

export function plantEnv(b: DecoyBuilder, awsAccount: string): void {
  const { rand } = b;
  b.setEnv('NPM_TOKEN', npmToken(rand), 'npm token');
  b.setEnv('NODE_AUTH_TOKEN', npmToken(rand), 'npm token');
  b.setEnv('GITHUB_TOKEN', githubToken(rand), 'github token');
  b.setEnv('GH_TOKEN', githubToken(rand), 'github token');
  b.setEnv('AWS_ACCESS_KEY_ID', awsAccessKeyId(rand, awsAccount), 'aws access key id');
  b.setEnv('AWS_SECRET_ACCESS_KEY', awsSecretAccessKey(rand), 'aws secret access key');
  b.setEnv('AWS_DEFAULT_REGION', rand.pick(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1']));
  b.setEnv('OPENAI_API_KEY', openaiProjectKey(rand), 'openai api key');
  b.setEnv('ANTHROPIC_API_KEY', anthropicApiKey(rand), 'anthropic api key');
  b.setEnv('EDITOR', 'vim');
}
