terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State in S3 with locking; configured at init time:
  #   terraform init -backend-config=bucket=<state bucket> \
  #     -backend-config=key=pastebin/prod.tfstate -backend-config=region=us-east-1 \
  #     -backend-config=use_lockfile=true -backend-config=encrypt=true
  backend "s3" {}
}

provider "aws" {
  alias  = "a"
  region = var.region_a
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "b"
  region = var.region_b
  default_tags {
    tags = local.tags
  }
}
