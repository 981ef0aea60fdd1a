"""Records a real browser's HAR of a journey on one of the test sites, for the HAR import tests:
Playwright (from PyPI) driving Debian's Chromium (never a downloaded browser), record_har_path.

  record_har.py FLOW BASE_URL HAR_OUT USER PASSWORD

FLOW:
  notes  the Django site (notes_site.py): the login page, log in (Django's CSRF form), add a note
  shop   shop.py: the login form at /shop (a 302 to /account, JSON with a CSRF token), then the
         page's script posts to /cart with that token in X-CSRF
  api    shop.py's JSON API from the /shop page's script: a token from /api/token sent back as
         "Authorization: Bearer", an order whose id from one response is in the next URL's path,
         and a client-side nonce (crypto.randomUUID) that no response gives
Prints the page's last status or text, then "recorded".
"""
import sys

from playwright.sync_api import sync_playwright

FLOW, BASE, HAR, USER, PASSWORD = sys.argv[1:6]

API = """async ([user, password]) => {
  const t = await (await fetch('/api/token', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                               body: JSON.stringify({user: user, password: password})})).json();
  const auth = {'Authorization': 'Bearer ' + t.access_token};
  const o = await (await fetch('/api/orders', {method: 'POST', headers: {...auth, 'Content-Type': 'application/json'},
                                                body: JSON.stringify({item: 42, client_nonce: crypto.randomUUID()})})).json();
  const r = await fetch('/api/orders/' + o.order_id, {headers: auth});
  return r.status;
}"""

CART = """async () => {
  const account = JSON.parse(document.body.innerText);
  const r = await fetch('/cart', {method: 'POST', headers: {'X-CSRF': account.csrf, 'Content-Type': 'application/json'},
                                  body: JSON.stringify({item: 42})});
  return r.status;
}"""

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    context = browser.new_context(record_har_path=HAR, record_har_content="embed")
    page = context.new_page()
    if FLOW == "notes":
        page.goto(BASE + "/login/")
        page.wait_for_timeout(300)
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("#go")
        page.wait_for_url("**/notes/")
        page.wait_for_timeout(300)
        page.fill("#text", "bought milk")
        page.click("#add")
        page.wait_for_load_state()
        print(page.inner_text("#who"))
    elif FLOW == "shop":
        page.goto(BASE + "/shop")
        page.wait_for_timeout(200)
        page.fill("#user", USER)
        page.fill("#password", PASSWORD)
        page.click("#go")
        page.wait_for_url("**/account")
        print(page.evaluate(CART))
    elif FLOW == "api":
        page.goto(BASE + "/shop")
        print(page.evaluate(API, [USER, PASSWORD]))
    else:
        sys.exit(f"unknown flow {FLOW}")
    page.wait_for_timeout(200)
    context.close()
    browser.close()
print("recorded")
