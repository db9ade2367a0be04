// PM2, for those who run it the original way: pm2 start deploy/ecosystem.config.js
// Settings come from the environment file that systemd uses too.
const fs = require("fs");

function environment(file) {
  const env = {};
  if (!fs.existsSync(file)) return env;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const match = line.match(/^\s*([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (match) env[match[1]] = match[2];
  }
  return env;
}

const env = environment(process.env.LOGISTIC_ENV_FILE || "/etc/logistic/logistic.env");

module.exports = {
  apps: [
    // Two API instances, as the nginx upstream expects (3000 and 3001).
    ...["3000", "3001"].map((port) => ({
      name: `logistic-api-${port}`,
      script: ".venv/bin/logistic",
      args: `serve --port ${port}`,
      interpreter: "none",
      env,
      autorestart: true,
      kill_timeout: 30000,
    })),
    {
      name: "logistic-scheduler",
      script: ".venv/bin/logistic",
      args: "scheduler --metrics-port 9101",
      interpreter: "none",
      env,
      autorestart: true,
      kill_timeout: 60000,
    },
    {
      name: "logistic-dispatcher",
      script: ".venv/bin/logistic",
      args: "dispatcher --metrics-port 9102",
      interpreter: "none",
      env,
      autorestart: true,
      kill_timeout: 60000,
    },
  ],
};
