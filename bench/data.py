"""Benchmark data: transactions in the Flask app's JSON shape, the same for a given size."""

import json
import random
from datetime import date, timedelta
from pathlib import Path

_FIRST = (
    "Aarav Aditi Akash Ananya Anil Anjali Arjun Asha Deepa Devika Divya Gaurav Geeta Harish "
    "Ishaan Jaya Karan Kavya Kiran Lakshmi Manish Meera Mohan Neha Nikhil Pooja Pradeep Priya "
    "Rahul Rajesh Ravi Rekha Rohan Sanjay Sara Shreya Sunil Sunita Tanvi Uma Varun Vikram "
    "Vidya Yash Zara Abdul Fatima Imran Joseph Maria Thomas Grace Daniel Ruth Simran Harpreet "
    "Gurpreet Manpreet Arun Bhavna Chetan Dinesh Esha Farhan Ganesh Hema Indira Jatin Komal "
    "Lalit Madhu Naveen Omkar Parul Qasim Radha Sameer Tara Uday Vani Wasim Yamini Zubin "
    "Alok Bina Chitra Dev Ekta Firoz Gita Hari Ila Jai Kunal Leela Mira Nisha"
)
_LAST = (
    "Rao Kumar Sharma Verma Iyer Nair Menon Reddy Patel Shah Mehta Gupta Singh Das Bose "
    "Banerjee Chatterjee Mukherjee Ghosh Sen Pillai Kurian Thomas Joseph Fernandes D'Souza "
    "Pereira Khan Ahmed Siddiqui Qureshi Ansari Mishra Tiwari Pandey Dubey Yadav Chauhan "
    "Rathore Joshi Kulkarni Deshpande Patil Pawar Jadhav Naidu Chowdary Hegde Shetty Kamath "
    "Bhat Prabhu Gowda Murthy Krishnan Subramanian Venkatesh Raman Srinivasan Balaji Natarajan "
    "Agarwal Bansal Goyal Jain Kapoor Khanna Malhotra Arora Sethi Bhatia Chopra Sood Grover "
    "Saxena Srivastava Sinha Jha Thakur Rawat Negi Bisht Dutta Roy Paul Kaur Gill Sandhu "
    "Dhillon Sidhu Bajwa Mann Grewal Walia"
)
_BRANDS = (
    "Croma Reliance-Digital Big-Bazaar Flipkart Amazon Myntra Swiggy Zomato Uber Ola "
    "IndiGo Air-India MakeMyTrip Booking Apple-Store Tanishq Titan Lifestyle Westside "
    "Shoppers-Stop DMart Spencer's Nature's-Basket BookMyShow PVR INOX Decathlon Nykaa "
    "Lenskart Pepperfry IKEA HomeCentre Vijay-Sales Poorvika Sangeetha Kalyan Malabar "
    "Starbucks Domino's McDonald's KFC Haldiram's Barbeque-Nation Taj Oberoi ITC Marriott "
    "Hyatt Trident Lemon-Tree"
)
_CITIES = (
    "Mumbai Delhi Bengaluru Chennai Kolkata Hyderabad Pune Ahmedabad Jaipur Lucknow Kochi "
    "Indore Bhopal Nagpur Surat Vadodara Chandigarh Goa Mysuru Coimbatore Madurai Patna "
    "Bhubaneswar Guwahati Dehradun Amritsar Ludhiana Noida Gurugram Thane Nashik Rajkot"
)
FIRST, LAST, BRANDS, CITIES = (words.split() for words in (_FIRST, _LAST, _BRANDS, _CITIES))
BANKS = (
    "State Bank of India",
    "HDFC Bank",
    "ICICI Bank",
    "Axis Bank",
    "Kotak Mahindra Bank",
    "Punjab National Bank",
    "Bank of Baroda",
    "Canara Bank",
    "Union Bank of India",
    "IndusInd Bank",
    "Yes Bank",
    "IDFC First Bank",
    "Federal Bank",
    "South Indian Bank",
)
ACTIONS = ["Pending"] * 6 + ["Resolved", "Mark As Fraud", "Not Answered", "Disconnected"]


def _merchants():
    return [f"{b.replace('-', ' ')} {c}" for b in BRANDS for c in CITIES]


def rows(n: int, seed: int = 7):
    """n transactions; about four per customer, as banks see repeat customers."""
    rng = random.Random(seed)
    merchants = _merchants()
    customers = max(1, n // 4)
    start = date(2024, 1, 1)
    for i in range(n):
        c = rng.randrange(customers)
        crng = random.Random(c * 7919 + seed)
        name = f"{crng.choice(FIRST)} {crng.choice(LAST)}"
        # Indian mobile numbers: +91, then 9 and nine more digits (valid ranges).
        phone = f"+91 9{crng.randrange(10**9):09d}"
        yield {
            "id": f"BT{i + 1:07d}",
            "client_name": name,
            "card_number": f"***{crng.randrange(10000):04d}",
            "client_phone": phone,
            "amount": round(rng.uniform(50, 250000), 2),
            "bank_name": crng.choice(BANKS),
            "merchant_name": rng.choice(merchants),
            "transaction_date": (start + timedelta(days=rng.randrange(700))).strftime("%d/%m/%Y"),
            "action": rng.choice(ACTIONS),
        }


def write(path: Path, n: int) -> Path:
    """Write n rows to `path` (kept between runs: the same n gives the same file)."""
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write("[")
        for k, row in enumerate(rows(n)):
            out.write(",\n" if k else "\n")
            out.write(json.dumps(row, ensure_ascii=False))
        out.write("\n]\n")
    tmp.rename(path)
    return path
