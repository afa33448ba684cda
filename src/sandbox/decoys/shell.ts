/**
 * Shell dotfiles and histories. The histories are drawn afresh from a pool each scan (which
 * commands, their order, their times), so no two sandboxes have the same files to fingerprint.
 */
import type { DecoyBuilder } from './builder.js';
import { githubToken } from './formats.js';

/** Debian's /etc/skel/.profile, which every account starts from. */
const PROFILE = `# ~/.profile: executed by the command interpreter for login shells.
# This file is not read by bash(1), if ~/.bash_profile or ~/.bash_login
# exists.
# see /usr/share/doc/bash/examples/startup-files for examples.
# the files are located in the bash-doc package.

# the default umask is set in /etc/profile; for setting the umask
# for ssh logins, install and configure the libpam-umask package.
#umask 022

# if running bash
if [ -n "$BASH_VERSION" ]; then
    # include .bashrc if it exists
    if [ -f "$HOME/.bashrc" ]; then
	. "$HOME/.bashrc"
    fi
fi

# set PATH so it includes user's private bin if it exists
if [ -d "$HOME/bin" ] ; then
    PATH="$HOME/bin:$PATH"
fi

# set PATH so it includes user's private bin if it exists
if [ -d "$HOME/.local/bin" ] ; then
    PATH="$HOME/.local/bin:$PATH"
fi
`;

const BASHRC_HEAD = `# ~/.bashrc: executed by bash(1) for non-login shells.
# see /usr/share/doc/bash/examples/startup-files (in the package bash-doc)
# for examples

# If not running interactively, don't do anything
case $- in
    *i*) ;;
      *) return;;
esac

# don't put duplicate lines or lines starting with space in the history.
# See bash(1) for more options
HISTCONTROL=ignoreboth

# append to the history file, don't overwrite it
shopt -s histappend

# for setting history length see HISTSIZE and HISTFILESIZE in bash(1)
HISTSIZE=1000
HISTFILESIZE=2000

# check the window size after each command and, if necessary,
# update the values of LINES and COLUMNS.
shopt -s checkwinsize

# set a fancy prompt (non-color, unless we know we "want" color)
case "$TERM" in
    xterm-color|*-256color) color_prompt=yes;;
esac

if [ "$color_prompt" = yes ]; then
    PS1='\${debian_chroot:+($debian_chroot)}\\[\\033[01;32m\\]\\u@\\h\\[\\033[00m\\]:\\[\\033[01;34m\\]\\w\\[\\033[00m\\]\\$ '
else
    PS1='\${debian_chroot:+($debian_chroot)}\\u@\\h:\\w\\$ '
fi
unset color_prompt force_color_prompt

# enable color support of ls and also add handy aliases
if [ -x /usr/bin/dircolors ]; then
    test -r ~/.dircolors && eval "$(dircolors -b ~/.dircolors)" || eval "$(dircolors -b)"
    alias ls='ls --color=auto'
    alias grep='grep --color=auto'
fi

# some more ls aliases
alias ll='ls -l'
alias la='ls -A'
alias l='ls -CF'

if [ -f ~/.bash_aliases ]; then
    . ~/.bash_aliases
fi

# enable programmable completion features
if ! shopt -oq posix; then
  if [ -f /usr/share/bash-completion/bash_completion ]; then
    . /usr/share/bash-completion/bash_completion
  elif [ -f /etc/bash_completion ]; then
    . /etc/bash_completion
  fi
fi
`;

const EXTRAS = [
  'export EDITOR=vim',
  'export PATH="$HOME/.local/bin:$PATH"',
  "alias gs='git status -sb'",
  "alias gl='git log --oneline --graph -20'",
  "alias k='kubectl'",
  "alias dc='docker compose'",
  "alias tf='terraform'",
  'export AWS_PAGER=""',
  'export HISTTIMEFORMAT="%F %T "',
];

/** Commands a web developer types; `{login}` and `{user}` are filled in. */
const COMMANDS = [
  'cd ~/code/webapp',
  'git status',
  'git pull --rebase',
  'git checkout -b fix/session-timeout',
  'git add -p',
  'git commit -m "Fix session timeout on refresh"',
  'git push -u origin HEAD',
  'git log --oneline -10',
  'git stash',
  'git stash pop',
  'npm install',
  'npm run dev',
  'npm test',
  'npm run build',
  'npm outdated',
  'npm ci',
  'node --version',
  'npx prettier --write src',
  'docker compose up -d',
  'docker compose logs -f api',
  'docker ps',
  'kubectl get pods -n staging',
  'kubectl logs -n staging deploy/webapp --tail=100',
  'kubectl config use-context staging',
  'aws s3 ls',
  'aws sts get-caller-identity',
  'aws --profile prod ecr get-login-password | docker login --username AWS --password-stdin',
  'ssh bastion',
  'gh pr create --fill',
  'gh pr list',
  'gh auth status',
  'code .',
  'vim .env',
  'cat package.json',
  'ls -la',
  'htop',
  'curl -s localhost:3000/health',
  'psql "$DATABASE_URL" -c "select count(*) from users"',
  'claude',
  'ping -c 3 db.internal.example',
];

export function plantShell(b: DecoyBuilder): void {
  const { rand } = b;
  const extras = rand.sample(EXTRAS, rand.between(3, EXTRAS.length)).join('\n');
  b.file('.profile', PROFILE, { mtime: b.ago(300, 700) });
  b.file('.bashrc', `${BASHRC_HEAD}\n${extras}\n`, { mtime: b.ago(30, 200) });
  b.file(
    '.zshrc',
    [
      'HISTFILE=~/.zsh_history',
      'HISTSIZE=10000',
      'SAVEHIST=10000',
      'setopt extended_history share_history hist_ignore_dups',
      'bindkey -e',
      'autoload -Uz compinit && compinit',
      "PROMPT='%F{green}%n@%m%f:%F{blue}%~%f%# '",
      extras,
      '',
    ].join('\n'),
    { mtime: b.ago(30, 200) },
  );

  const bashToken = b.secret(githubToken(rand), '.bash_history', 'github token (shell history)');
  b.file('.bash_history', `${history(b, `export GITHUB_TOKEN=${bashToken}`).join('\n')}\n`, { mode: '0600', mtime: b.ago(0.05, 1) });

  const zshToken = b.secret(githubToken(rand), '.zsh_history', 'github token (shell history)');
  // zsh's extended history: ": <start>:<elapsed>;<command>", oldest first.
  let t = Math.floor(b.ago(6, 9));
  const lines = history(b, `export GITHUB_TOKEN=${zshToken}`).map((cmd) => {
    t += rand.between(20, 4 * 3600);
    return `: ${Math.min(t, Math.floor(b.now) - 600)}:${rand.int(5)};${cmd}`;
  });
  b.file('.zsh_history', `${lines.join('\n')}\n`, { mode: '0600', mtime: b.ago(0.2, 2) });
}

function history(b: DecoyBuilder, secretLine: string): string[] {
  const { rand } = b;
  const lines = rand.sample(COMMANDS, rand.between(24, 34));
  lines.splice(rand.between(3, lines.length - 3), 0, secretLine, 'gh repo clone acme/infra');
  return lines;
}
