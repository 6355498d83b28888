// The phone's « Send a photo » form: a multipart upload over HTTP, its answer said in words.
import { readJSON, t } from "./page.js";

const form = document.getElementById("photo-form");
const session = readJSON("rouages-session");
const statusLine = document.getElementById("photo-status");
const fileInput = document.getElementById("photo-file");
const captionInput = document.getElementById("photo-caption");
const button = form.querySelector("button[type=submit]");
const maxBytes = Number(form.dataset.maxBytes) || 0;

function say(text, state) {
  statusLine.textContent = text;
  statusLine.dataset.state = state;
}

async function send(event) {
  event.preventDefault();
  const file = fileInput.files[0];
  if (!file) {
    say(t("Choose a photo to send."), "error");
    return;
  }
  if (maxBytes && file.size > maxBytes) {
    say(t("This photo is too large (at most %(size)s MB).", { size: Math.max(1, Math.round(maxBytes / 1e6)) }), "error");
    return;
  }
  const body = new FormData(form);
  // The page's own token, for a phone whose cookie was cleared (the server reads the cookie first).
  const token = localStorage.getItem(`rouages.token.${session.event.slug}`);
  if (token) body.append("token", token);
  button.disabled = true;
  say(t("Sending the photo…"), "pending");
  try {
    const response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
    const answer = await response.json().catch(() => null);
    if (answer && answer.ok) {
      say(t("Photo sent: the organisers will look at it."), "ok");
      form.reset();
    } else {
      say(answer && answer.error ? answer.error.message : t("Something went wrong on the server. Try again."), "error");
    }
  } catch {
    say(t("Not connected: try again in a moment."), "error");
  } finally {
    button.disabled = false;
  }
}

form.addEventListener("submit", send);
captionInput.addEventListener("input", () => say("", ""));
